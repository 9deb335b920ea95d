//! Running a [`Stack`] as a real host on a Linux TAP device (cargo feature `tap`). This is the
//! only I/O in the crate, and it stays outside the state machines: a loop reads each frame the
//! kernel hands the TAP device and gives it to [`Stack::handle_frame`], writes every frame
//! [`Stack::poll_transmit`] returns once the burst of frames waiting has been read, calls
//! [`Stack::handle_timeout`] when [`Stack::poll_timeout`] has passed, and otherwise sleeps in
//! `poll(2)` until the next frame, the next deadline or a [`StopHandle::stop`].
//!
//! The application side (sockets, services) plugs in through [`Application`], which the loop
//! calls with the stack during and after each burst of frames and after timeouts, so that it
//! can act on [`Stack::poll_event`].
//!
//! The device itself is opened through the `tun-rs` crate (`TUNSETIFF` with
//! `IFF_TAP | IFF_NO_PI`), so that this crate keeps `#![forbid(unsafe_code)]`.
//!
//! ```no_run
//! use core::net::Ipv4Addr;
//! use wirecheck_stack::tap::{Application, TapDevice, TapDriver};
//! use wirecheck_stack::{Config, InterfaceConfig, Instant, Ipv4Cidr, MacAddr, Stack};
//!
//! struct Quiet;
//! impl Application for Quiet {
//!     fn poll(&mut self, _now: Instant, stack: &mut Stack) {
//!         while stack.poll_event().is_some() {}
//!     }
//! }
//!
//! let device = TapDevice::open("tap0", false)?; // made with `ip tuntap add tap0 mode tap`
//! let mut driver = TapDriver::new(device)?;
//! let mut stack = Stack::new(Config::default());
//! let iface = stack
//!     .add_interface(
//!         driver.now(),
//!         InterfaceConfig::ethernet(
//!             MacAddr([2, 0, 0, 0, 0, 1]),
//!             Ipv4Cidr::new(Ipv4Addr::new(192, 0, 2, 2), 24),
//!         ),
//!     )
//!     .unwrap();
//! driver.run(&mut stack, iface, &mut Quiet)?; // ping 192.0.2.2 answers until stopped
//! # Ok::<(), wirecheck_stack::tap::TapError>(())
//! ```

use std::fmt;
use std::io;
use std::sync::Arc;

use tun_rs::{DeviceBuilder, InterruptEvent, Layer, SyncDevice};

use core::net::Ipv4Addr;

use wirecheck_codec::ethernet::EtherType;
use wirecheck_codec::ipv4::IpProtocol;
use wirecheck_codec::tcp::{TcpFlags, TcpHeader};

use crate::iface::InterfaceId;
use crate::{Instant, Stack};

/// Largest frame read from the device. Frames are at most the device MTU plus the Ethernet
/// header (and a VLAN tag) without offloads; this leaves room for any MTU Linux allows.
const READ_BUFFER: usize = 65_536 + 18;

/// Frames read in a row before the loop checks its deadlines and stop flag: bounds the time
/// a flood can keep timers waiting.
const READ_BURST: usize = 1024;

/// Within a burst, the application acts every this many frames (and at its end): often enough
/// that the receive window stays open through a long burst, rarely enough that each read
/// does not cost a window update of its own.
const APP_POLL_EVERY: u64 = 16;

/// Why the TAP device could not be opened or used.
#[derive(Debug)]
pub enum TapError {
    /// `/dev/net/tun` does not exist (no `tun` module, or a container without the device).
    NoTunDevice(io::Error),
    /// Not allowed to attach to (or create) the device: it needs `CAP_NET_ADMIN`, or a
    /// persistent device owned by this user.
    PermissionDenied {
        /// The device name.
        name: String,
        /// The error from the kernel.
        source: io::Error,
    },
    /// The named device does not exist in this network namespace (and creating it was not
    /// asked for).
    NoSuchDevice {
        /// The device name.
        name: String,
    },
    /// The device exists but is not a TAP device, or is in use by another process
    /// (without multi-queue), or the name is not valid.
    Unusable {
        /// The device name.
        name: String,
        /// The error from the kernel.
        source: io::Error,
    },
    /// Reading or writing the device failed.
    Io(io::Error),
}

impl fmt::Display for TapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TapError::NoTunDevice(e) => write!(
                f,
                "cannot open /dev/net/tun ({e}): load the tun module (`modprobe tun`), or in a \
                 container pass the device in (e.g. `--device /dev/net/tun`)"
            ),
            TapError::PermissionDenied { name, source } => write!(
                f,
                "permission denied attaching to TAP device {name} ({source}): run as root (it \
                 needs CAP_NET_ADMIN), or create the device for your user with \
                 `ip tuntap add dev {name} mode tap user $USER`"
            ),
            TapError::NoSuchDevice { name } => write!(
                f,
                "no TAP device {name} in this network namespace: create it with \
                 `ip tuntap add dev {name} mode tap` (and `ip link set {name} up`), or ask for \
                 a temporary one (--create)"
            ),
            TapError::Unusable { name, source } => write!(
                f,
                "cannot attach to {name} ({source}): is it a TAP device (not TUN), free (no \
                 other process attached), and is its name at most 15 characters?"
            ),
            TapError::Io(e) => write!(f, "TAP device I/O: {e}"),
        }
    }
}

impl std::error::Error for TapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TapError::NoTunDevice(e) | TapError::Io(e) => Some(e),
            TapError::PermissionDenied { source, .. } | TapError::Unusable { source, .. } => {
                Some(source)
            }
            TapError::NoSuchDevice { .. } => None,
        }
    }
}

impl From<io::Error> for TapError {
    fn from(e: io::Error) -> TapError {
        TapError::Io(e)
    }
}

/// An open TAP device: whole Ethernet frames in and out, without packet information.
pub struct TapDevice {
    device: SyncDevice,
    name: String,
}

impl fmt::Debug for TapDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TapDevice")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TapDevice {
    /// Attaches to the TAP device `name` in the current network namespace. With `create`
    /// false the device must already exist (made with `ip tuntap add dev NAME mode tap`, so
    /// that it outlives this process and the kernel side can be configured beforehand); with
    /// `create` true a missing device is created and goes away when the process ends.
    ///
    /// The device's link state is left as it is: bring it up with `ip link set NAME up`.
    pub fn open(name: &str, create: bool) -> Result<TapDevice, TapError> {
        if !create && !interface_exists(name)? {
            return Err(TapError::NoSuchDevice {
                name: name.to_string(),
            });
        }
        let device = DeviceBuilder::new()
            .name(name)
            .layer(Layer::L2)
            .packet_information(false)
            .inherit_enable_state()
            .build_sync()
            .map_err(|e| classify_open_error(name, e))?;
        // Reads drain the device until it would block; `poll(2)` does the waiting.
        device.set_nonblocking(true)?;
        let name = device.name().unwrap_or_else(|_| name.to_string());
        Ok(TapDevice { device, name })
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the device's link is up and running (`IFF_UP` and `IFF_RUNNING`).
    pub fn is_running(&self) -> bool {
        self.device.is_running().unwrap_or(false)
    }

    /// The MTU the kernel has for the device (its side of the link).
    pub fn mtu(&self) -> io::Result<u16> {
        self.device.mtu()
    }
}

/// Whether a network interface called `name` exists in this process's network namespace.
/// `/proc/net/dev` follows the reader's namespace (unlike `/sys`, which follows the mount).
fn interface_exists(name: &str) -> Result<bool, TapError> {
    let table = std::fs::read_to_string("/proc/net/dev")?;
    Ok(table
        .lines()
        .skip(2)
        .filter_map(|line| line.split_once(':'))
        .any(|(iface, _)| iface.trim() == name))
}

fn classify_open_error(name: &str, e: io::Error) -> TapError {
    let name = name.to_string();
    match e.kind() {
        io::ErrorKind::NotFound => TapError::NoTunDevice(e),
        io::ErrorKind::PermissionDenied => TapError::PermissionDenied { name, source: e },
        _ => TapError::Unusable { name, source: e },
    }
}

/// Which way a frame went through the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Read from the device: sent by the kernel to the stack.
    In,
    /// Written to the device: sent by the stack.
    Out,
}

/// The application side of a stack run by a [`TapDriver`].
pub trait Application {
    /// Called every few frames of a burst the stack takes in, after the burst, after the
    /// timeouts it handles, and before the loop sleeps: act on [`Stack::poll_event`], send,
    /// receive. What it sends goes out at the end of the burst.
    fn poll(&mut self, now: Instant, stack: &mut Stack);

    /// The application's own next deadline, if it has one; the loop wakes for it and calls
    /// [`poll`](Application::poll).
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Every frame that went through the device, either way (for a capture).
    fn frame(&mut self, _direction: Direction, _now: Instant, _bytes: &[u8]) {}

    /// Called once when the loop is stopped, before the last frames are written: close or
    /// abort connections here so that peers hear of it.
    fn shutdown(&mut self, _now: Instant, _stack: &mut Stack) {}
}

/// Stops a running [`TapDriver`] from another thread (or a signal handler's thread).
#[derive(Clone)]
pub struct StopHandle(Arc<InterruptEvent>);

impl fmt::Debug for StopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopHandle")
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

impl StopHandle {
    /// Asks the loop to stop; it returns from [`TapDriver::run`] promptly.
    pub fn stop(&self) {
        // The event is a pipe: writing fails only if it is already full, i.e. already stopped.
        let _ = self.0.trigger();
    }

    /// Whether [`stop`](StopHandle::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.0.is_trigger()
    }
}

/// Counters of a [`TapDriver`] run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverStats {
    /// Frames read from the device.
    pub frames_in: u64,
    /// Octets read from the device.
    pub bytes_in: u64,
    /// Frames written to the device.
    pub frames_out: u64,
    /// Octets written to the device.
    pub bytes_out: u64,
    /// Frames the device would not take (its queue full); they are dropped as a link would.
    pub write_drops: u64,
    /// Times the loop slept.
    pub sleeps: u64,
    /// Pure ACKs left out because a later one in the same batch superseded them
    /// ([`coalesce_acks`]).
    pub acks_coalesced: u64,
}

/// The loop that runs a [`Stack`] on a [`TapDevice`], with the wall clock as its time.
pub struct TapDriver {
    device: TapDevice,
    stop: Arc<InterruptEvent>,
    epoch: std::time::Instant,
    buffer: Vec<u8>,
    batch: Vec<Vec<u8>>,
    keep: Vec<bool>,
    ack_coalescing: bool,
    /// Frames taken from the stack with `poll_transmit` so far.
    pulled: u64,
    stats: DriverStats,
}

impl fmt::Debug for TapDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TapDriver")
            .field("device", &self.device)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl TapDriver {
    /// A driver for `device`; its clock starts now at [`Instant::ZERO`].
    pub fn new(device: TapDevice) -> Result<TapDriver, TapError> {
        Ok(TapDriver {
            device,
            stop: Arc::new(InterruptEvent::new()?),
            epoch: std::time::Instant::now(),
            buffer: vec![0; READ_BUFFER],
            batch: Vec::new(),
            keep: Vec::new(),
            ack_coalescing: true,
            pulled: 0,
            stats: DriverStats::default(),
        })
    }

    /// The device.
    pub fn device(&self) -> &TapDevice {
        &self.device
    }

    /// A handle that stops [`run`](TapDriver::run) from elsewhere.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(Arc::clone(&self.stop))
    }

    /// The driver's clock: time since it was made, as the stack's [`Instant`].
    pub fn now(&self) -> Instant {
        let micros = self.epoch.elapsed().as_micros();
        Instant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    /// The wall-clock time of a driver [`Instant`] (for capture timestamps).
    pub fn system_time(&self, at: Instant) -> std::time::SystemTime {
        let since = std::time::Duration::from_micros(at.as_micros());
        let now = std::time::SystemTime::now();
        let elapsed = self.epoch.elapsed();
        // epoch in wall-clock terms = now - elapsed.
        now.checked_sub(elapsed)
            .and_then(|epoch| epoch.checked_add(since))
            .unwrap_or(now)
    }

    /// Whether to leave out superseded pure ACKs when writing a batch of frames
    /// ([`coalesce_acks`]); on by default. Off, every frame the stack queued is written.
    pub fn set_ack_coalescing(&mut self, on: bool) {
        self.ack_coalescing = on;
    }

    /// The counters so far.
    pub fn stats(&self) -> &DriverStats {
        &self.stats
    }

    /// Runs `stack` on the device as interface `iface` until [`StopHandle::stop`] is called
    /// or the device fails; then calls [`Application::shutdown`] and writes what it queued.
    pub fn run(
        &mut self,
        stack: &mut Stack,
        iface: InterfaceId,
        app: &mut impl Application,
    ) -> Result<DriverStats, TapError> {
        let mut now = self.now();
        app.poll(now, stack);
        self.flush(now, stack, app)?;
        while !self.stop.is_trigger() {
            // Frames first, a bounded burst of them.
            let mut got_frames = false;
            for _ in 0..READ_BURST {
                let n = match self.device.device.recv(&mut self.buffer) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(TapError::Io(e)),
                };
                got_frames = true;
                now = self.now();
                let frame = self.buffer.get(..n).unwrap_or_default();
                self.stats.frames_in += 1;
                self.stats.bytes_in += n as u64;
                app.frame(Direction::In, now, frame);
                stack.handle_frame(now, iface, frame);
                // The application reads as data arrives, so that the receive window stays
                // open through a long burst; what it and the stack send waits for the end of
                // the burst, where superseded ACKs are left out.
                if self.stats.frames_in % APP_POLL_EVERY == 0 {
                    app.poll(now, stack);
                }
                if self.queued(stack) >= stack.config().max_transmit_queue / 2 {
                    // Long before the stack's transmit queue would overflow and drop frames.
                    self.flush(now, stack, app)?;
                }
            }
            // Then deadlines.
            now = self.now();
            if stack.poll_timeout().is_some_and(|t| t <= now) {
                stack.handle_timeout(now);
            }
            app.poll(now, stack);
            self.flush(now, stack, app)?;
            if got_frames {
                // More may be waiting: read again before sleeping.
                continue;
            }
            let deadline = [stack.poll_timeout(), app.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let timeout = match deadline {
                Some(t) if t <= now => continue,
                // poll(2) counts milliseconds: round up, so as not to wake just before.
                Some(t) => Some(std::time::Duration::from_millis(
                    t.saturating_duration_since(now).as_micros().div_ceil(1000),
                )),
                None => None,
            };
            self.stats.sleeps += 1;
            match self
                .device
                .device
                .wait_readable_intr_timeout(&self.stop, timeout)
            {
                Ok(()) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(TapError::Io(e)),
            }
        }
        now = self.now();
        app.shutdown(now, stack);
        self.flush(now, stack, app)?;
        Ok(self.stats.clone())
    }

    /// Frames waiting in the stack's transmit queue: queued in all (its counter) less taken.
    fn queued(&self, stack: &Stack) -> usize {
        usize::try_from(stack.stats().frames_out.saturating_sub(self.pulled)).unwrap_or(usize::MAX)
    }

    /// Writes every frame the stack has queued, as one batch: pure ACKs that a later segment
    /// of the same batch supersedes are left out first (see [`coalesce_acks`]) when
    /// [`set_ack_coalescing`](TapDriver::set_ack_coalescing) is on.
    fn flush(
        &mut self,
        now: Instant,
        stack: &mut Stack,
        app: &mut impl Application,
    ) -> Result<(), TapError> {
        self.batch.clear();
        while let Some(transmit) = stack.poll_transmit() {
            self.batch.push(transmit.bytes);
        }
        self.pulled += self.batch.len() as u64;
        if self.ack_coalescing && self.batch.len() > 1 {
            self.stats.acks_coalesced += coalesce_acks(&mut self.batch, &mut self.keep) as u64;
        }
        for (frame, &keep) in self
            .batch
            .iter()
            .zip(self.keep.iter().chain(std::iter::repeat(&true)))
        {
            if !keep {
                continue;
            }
            app.frame(Direction::Out, now, frame);
            match self.device.device.send(frame) {
                Ok(n) => {
                    self.stats.frames_out += 1;
                    self.stats.bytes_out += n as u64;
                }
                // A full device queue (or a link that is down) loses the frame, as a wire
                // would; TCP and the applications recover.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) || e.raw_os_error() == Some(EIO) =>
                {
                    self.stats.write_drops += 1
                }
                Err(e) => return Err(TapError::Io(e)),
            }
        }
        self.keep.clear();
        Ok(())
    }
}

/// A TCP segment's connection and acknowledgment, as far as ACK coalescing needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AckInfo {
    /// Source and destination address and port.
    connection: (Ipv4Addr, Ipv4Addr, u16, u16),
    acknowledgment: u32,
    /// A pure ACK: no data, no SYN/FIN/RST/URG/PSH, no SACK blocks — nothing but the
    /// acknowledgment and window, so that a later, higher acknowledgment says all it says.
    pure: bool,
}

/// Offsets in an untagged Ethernet frame carrying IPv4 without options, the only frames
/// [`coalesce_acks`] looks into (the stack sends no IP options with TCP).
mod offset {
    use core::ops::Range;
    pub const ETHER_TYPE: Range<usize> = 12..14;
    pub const IP: usize = 14;
    pub const IP_VERSION_IHL: usize = IP;
    pub const IP_TOTAL_LENGTH: Range<usize> = IP + 2..IP + 4;
    pub const IP_FRAGMENT: Range<usize> = IP + 6..IP + 8;
    pub const IP_PROTOCOL: usize = IP + 9;
    pub const IP_SOURCE: Range<usize> = IP + 12..IP + 16;
    pub const IP_DESTINATION: Range<usize> = IP + 16..IP + 20;
    pub const TCP: usize = IP + 20;
}

/// Reads what ACK coalescing needs with fixed offsets: it runs on every frame of every write
/// batch, so a full parse would cost more than the ACKs it saves. Anything unusual (VLAN
/// tags, IP options, fragments, malformed) is `None`: left alone.
fn ack_info(frame: &[u8]) -> Option<AckInfo> {
    let be16 = |r: core::ops::Range<usize>| -> Option<u16> {
        let b: [u8; 2] = frame.get(r)?.try_into().ok()?;
        Some(u16::from_be_bytes(b))
    };
    let addr = |r: core::ops::Range<usize>| -> Option<Ipv4Addr> {
        let b: [u8; 4] = frame.get(r)?.try_into().ok()?;
        Some(Ipv4Addr::from(b))
    };
    if be16(offset::ETHER_TYPE)? != EtherType::IPV4.0
        || *frame.get(offset::IP_VERSION_IHL)? != 0x45
        || *frame.get(offset::IP_PROTOCOL)? != IpProtocol::TCP.0
        || be16(offset::IP_FRAGMENT)? & 0x3fff != 0
    {
        return None;
    }
    let ip_end = offset::IP.checked_add(usize::from(be16(offset::IP_TOTAL_LENGTH)?))?;
    let segment = frame.get(offset::TCP..ip_end)?;
    let (tcp, data) = TcpHeader::parse(segment).ok()?;
    if !tcp.flags.contains(TcpFlags::ACK)
        || tcp.flags.contains(TcpFlags::SYN)
        || tcp.flags.contains(TcpFlags::RST)
    {
        return None;
    }
    Some(AckInfo {
        connection: (
            addr(offset::IP_SOURCE)?,
            addr(offset::IP_DESTINATION)?,
            tcp.source_port,
            tcp.destination_port,
        ),
        acknowledgment: tcp.acknowledgment_number,
        pure: tcp.flags == TcpFlags::ACK && data.is_empty() && tcp.options.sack().is_none(),
    })
}

/// Marks in `keep` (one flag per frame of `batch`) the pure TCP ACKs that a later segment of
/// the same batch and connection supersedes, with a strictly higher acknowledgment number;
/// returns how many. Written back to back, such ACKs tell the peer nothing the last one does
/// not, and each costs the peer's TCP a round of work. This is what a receiver gets from
/// handling a burst of frames before answering (smoltcp's poll, Linux's GRO): one ACK per
/// burst instead of one per two segments.
///
/// Duplicate ACKs (the same acknowledgment number again) are never left out: they are the
/// peer's signal of loss [RFC 5681 § 3.2]. Nor are ACKs with SACK blocks, data or other flags.
pub fn coalesce_acks(batch: &mut [Vec<u8>], keep: &mut Vec<bool>) -> usize {
    keep.clear();
    keep.resize(batch.len(), true);
    // Newest acknowledgment seen later in the batch, per connection (a batch has few).
    let mut latest: Vec<((Ipv4Addr, Ipv4Addr, u16, u16), u32)> = Vec::new();
    let mut left_out = 0;
    for (frame, keep) in batch.iter().zip(keep.iter_mut()).rev() {
        let Some(info) = ack_info(frame) else {
            continue;
        };
        match latest.iter_mut().find(|(c, _)| *c == info.connection) {
            Some((_, later)) => {
                // Sequence-number arithmetic: "later is after this one" [RFC 9293 § 3.4].
                if info.pure && (later.wrapping_sub(info.acknowledgment) as i32) > 0 {
                    *keep = false;
                    left_out += 1;
                } else if (info.acknowledgment.wrapping_sub(*later) as i32) > 0 {
                    *later = info.acknowledgment;
                }
            }
            None => latest.push((info.connection, info.acknowledgment)),
        }
    }
    left_out
}

/// `EIO`: what a write to a TAP device whose link is down returns.
const EIO: i32 = 5;

#[cfg(test)]
mod tests {
    use super::*;
    use wirecheck_codec::ethernet::EthernetHeader;
    use wirecheck_codec::ipv4::Ipv4Header;

    const A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    /// An Ethernet/IPv4/TCP frame from A:9 to B:`port`.
    fn segment(port: u16, ack: u32, flags: TcpFlags, options: &[u8], data: &[u8]) -> Vec<u8> {
        use wirecheck_codec::ethernet::MacAddr;
        use wirecheck_codec::tcp::TcpOptions;
        let tcp = TcpHeader {
            options: TcpOptions::raw(options),
            ..TcpHeader::new(9, port, 1000, ack, flags, 512)
        };
        let mut tcp_bytes = vec![0u8; 20 + options.len() + data.len()];
        tcp.emit(A, B, data, &mut tcp_bytes).unwrap();
        let ip = Ipv4Header::new(A, B, IpProtocol::TCP);
        let mut frame = vec![0u8; 14 + 20 + tcp_bytes.len()];
        EthernetHeader::new(
            MacAddr([2, 0, 0, 0, 0, 1]),
            MacAddr([2, 0, 0, 0, 0, 2]),
            EtherType::IPV4,
        )
        .emit(&mut frame)
        .unwrap();
        ip.emit(tcp_bytes.len(), &mut frame[14..]).unwrap();
        frame[34..].copy_from_slice(&tcp_bytes);
        frame
    }

    fn ack(port: u16, ack: u32) -> Vec<u8> {
        segment(port, ack, TcpFlags::ACK, &[], &[])
    }

    fn kept(batch: &mut [Vec<u8>]) -> Vec<bool> {
        let mut keep = Vec::new();
        coalesce_acks(batch, &mut keep);
        keep
    }

    #[test]
    fn superseded_pure_acks_are_left_out() {
        let mut batch = vec![ack(5000, 100), ack(5000, 200), ack(5000, 300)];
        assert_eq!(kept(&mut batch), [false, false, true]);
    }

    #[test]
    fn duplicate_acks_are_kept() {
        // Three duplicates of 100 signal loss to the sender: every one goes out.
        let mut batch = vec![ack(5000, 100), ack(5000, 100), ack(5000, 100)];
        assert_eq!(kept(&mut batch), [true, true, true]);
        // An older acknowledgment after a newer one is not superseded by it either.
        let mut batch = vec![ack(5000, 200), ack(5000, 100)];
        assert_eq!(kept(&mut batch), [true, true]);
    }

    #[test]
    fn a_later_data_segment_supersedes_and_is_kept() {
        let data = segment(5000, 400, TcpFlags::ACK | TcpFlags::PSH, &[], b"hello");
        let mut batch = vec![ack(5000, 300), data];
        assert_eq!(kept(&mut batch), [false, true]);
    }

    #[test]
    fn connections_and_other_frames_are_independent() {
        let mut batch = vec![
            ack(5000, 100),
            ack(5001, 100),
            vec![0xff; 60], // not IPv4
            ack(5001, 200),
        ];
        assert_eq!(kept(&mut batch), [true, false, true, true]);
    }

    #[test]
    fn acks_with_sack_blocks_fin_or_syn_are_kept() {
        // SACK option: kind 5, length 10, one block; two NOPs to pad.
        let sack = [1, 1, 5, 10, 0, 0, 1, 0, 0, 0, 2, 0];
        let mut batch = vec![
            segment(5000, 100, TcpFlags::ACK, &sack, &[]),
            segment(5000, 150, TcpFlags::ACK | TcpFlags::FIN, &[], &[]),
            ack(5000, 300),
        ];
        assert_eq!(kept(&mut batch), [true, true, true]);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut batch = vec![ack(5000, u32::MAX - 10), ack(5000, 20)];
        assert_eq!(kept(&mut batch), [false, true]);
    }

    #[test]
    fn a_missing_device_is_a_clear_error() {
        // Checked before any privilege is needed, so it runs anywhere.
        let e = TapDevice::open("wc-no-such-0", false).unwrap_err();
        assert!(matches!(e, TapError::NoSuchDevice { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("no TAP device wc-no-such-0"), "{text}");
        assert!(
            text.contains("ip tuntap add dev wc-no-such-0 mode tap"),
            "{text}"
        );
    }

    #[test]
    fn interface_table_lists_loopback() {
        assert!(interface_exists("lo").unwrap());
        assert!(!interface_exists("l").unwrap());
    }

    #[test]
    fn open_errors_are_classified() {
        let e = classify_open_error("t", io::Error::from(io::ErrorKind::NotFound));
        assert!(matches!(e, TapError::NoTunDevice(_)));
        assert!(e.to_string().contains("/dev/net/tun"));
        let e = classify_open_error("t", io::Error::from_raw_os_error(1)); // EPERM
        assert!(matches!(e, TapError::PermissionDenied { .. }), "{e:?}");
        assert!(e.to_string().contains("CAP_NET_ADMIN"));
        let e = classify_open_error("t", io::Error::from_raw_os_error(22)); // EINVAL
        assert!(matches!(e, TapError::Unusable { .. }));
    }
}
