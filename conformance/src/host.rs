//! The classic small services a host runs for testing, on a wirecheck [`Stack`]: echo
//! (port 7, [RFC 862]), discard (port 9, [RFC 863]) and character generator (port 19,
//! [RFC 864]), each over UDP and TCP. ICMP echo is answered by the stack itself.
//!
//! [`Services`] is sans-IO like the stack: [`Services::poll`] acts on the stack's events and
//! is called by whatever drives the stack — the TAP driver of `wirecheck host`, or a
//! simulation in the tests.
//!
//! [RFC 862]: https://www.rfc-editor.org/rfc/rfc862
//! [RFC 863]: https://www.rfc-editor.org/rfc/rfc863
//! [RFC 864]: https://www.rfc-editor.org/rfc/rfc864

use core::net::{Ipv4Addr, SocketAddrV4};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::SystemTime;

use wirecheck_stack::tap::{Application, Direction, DriverStats, StopHandle, TapDevice, TapDriver};
use wirecheck_stack::tcp::TcpHandle;
use wirecheck_stack::{
    Config, Event, Instant, InterfaceConfig, Ipv4Cidr, MacAddr, Route, Stack, StackError, Stats,
    UdpHandle,
};

use crate::capture_writer::CaptureWriter;

/// The echo port [RFC 862].
pub const ECHO_PORT: u16 = 7;
/// The discard port [RFC 863].
pub const DISCARD_PORT: u16 = 9;
/// The character generator port [RFC 864].
pub const CHARGEN_PORT: u16 = 19;

/// Accept queue of each TCP listener.
const BACKLOG: usize = 128;

/// Most octets read from a connection in one go.
const READ_CHUNK: usize = 64 * 1024;

/// The 95 printing ASCII characters in chargen's ring: `!` to `~`, then the space
/// [RFC 864's example starts its first line with `!`].
const CHARGEN_FIRST: u8 = b'!';
const CHARGEN_CHARACTERS: usize = 95;
/// Characters on a line before CR LF [RFC 864's example: 72].
const CHARGEN_LINE: usize = 72;
/// One full cycle of the pattern: 95 lines of 72 characters and CR LF, each line starting one
/// character further on.
const CHARGEN_CYCLE: usize = CHARGEN_CHARACTERS * (CHARGEN_LINE + 2);

/// Which service a socket gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// Sends back what it receives [RFC 862].
    Echo,
    /// Throws away what it receives [RFC 863].
    Discard,
    /// Sends a stream of characters, ignoring what it receives [RFC 864].
    Chargen,
}

impl Service {
    /// The service's well-known port.
    pub fn port(self) -> u16 {
        match self {
            Service::Echo => ECHO_PORT,
            Service::Discard => DISCARD_PORT,
            Service::Chargen => CHARGEN_PORT,
        }
    }

    const ALL: [Service; 3] = [Service::Echo, Service::Discard, Service::Chargen];
}

/// What the services did, for the summary `wirecheck host` prints when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceStats {
    /// UDP datagrams received, all services.
    pub udp_datagrams_in: u64,
    /// UDP datagrams sent (echoes and chargen answers).
    pub udp_datagrams_out: u64,
    /// UDP datagrams that could not be sent back (no route, too long …).
    pub udp_send_errors: u64,
    /// TCP connections accepted.
    pub tcp_accepted: u64,
    /// TCP connections that ended with an error (reset, timeout).
    pub tcp_errors: u64,
    /// TCP octets received by the echo service.
    pub echo_octets_in: u64,
    /// TCP octets sent back by the echo service.
    pub echo_octets_out: u64,
    /// TCP octets received and thrown away by the discard service.
    pub discard_octets: u64,
    /// TCP octets sent by the chargen service.
    pub chargen_octets: u64,
}

/// One accepted TCP connection.
#[derive(Debug)]
struct Connection {
    service: Service,
    /// Echo: octets received but not yet taken by the send buffer (reading stops until they
    /// are, so that a slow reader slows the sender down instead of growing this).
    pending: Vec<u8>,
    /// Chargen: where in the pattern the next octet comes from.
    chargen_offset: usize,
    /// The peer sent its FIN and everything before it was read.
    peer_finished: bool,
    /// We asked the stack to close; the handle is gone.
    closed: bool,
}

/// Echo, discard and chargen over UDP and TCP on one stack.
#[derive(Debug)]
pub struct Services {
    udp: HashMap<UdpHandle, Service>,
    listeners: HashMap<TcpHandle, Service>,
    connections: HashMap<TcpHandle, Connection>,
    /// The chargen pattern twice over, so that any cycle-long stretch is one slice.
    pattern: Vec<u8>,
    buffer: Vec<u8>,
    random: u64,
    stats: ServiceStats,
}

impl Services {
    /// Opens the UDP sockets and TCP listeners of the three services on `address` (0.0.0.0:
    /// every address of the stack).
    pub fn start(stack: &mut Stack, address: Ipv4Addr) -> Result<Services, StackError> {
        let mut udp = HashMap::new();
        let mut listeners = HashMap::new();
        for service in Service::ALL {
            let local = SocketAddrV4::new(address, service.port());
            udp.insert(stack.udp_bind(local)?, service);
            listeners.insert(stack.tcp_listen(local, BACKLOG)?, service);
        }
        Ok(Services {
            udp,
            listeners,
            connections: HashMap::new(),
            pattern: chargen_pattern(2 * CHARGEN_CYCLE),
            buffer: vec![0; READ_CHUNK],
            random: 0x9e37_79b9_7f4a_7c15,
            stats: ServiceStats::default(),
        })
    }

    /// The counters.
    pub fn stats(&self) -> &ServiceStats {
        &self.stats
    }

    /// Open TCP connections.
    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// Acts on every event the stack has: answers datagrams, accepts connections, moves data.
    pub fn poll(&mut self, now: Instant, stack: &mut Stack) {
        while let Some(event) = stack.poll_event() {
            match event {
                Event::UdpReadable(handle) => self.udp_readable(now, stack, handle),
                Event::TcpIncoming(listener) => self.accept(now, stack, listener),
                Event::TcpReadable(handle) => self.readable(now, stack, handle),
                Event::TcpWritable(handle) => self.writable(now, stack, handle),
                Event::TcpError { handle, .. } => {
                    self.stats.tcp_errors += 1;
                    self.release(now, stack, handle);
                }
                Event::TcpClosed(handle) => self.release(now, stack, handle),
                _ => {}
            }
        }
    }

    /// Resets every open connection (when the host stops, so that peers do not wait).
    pub fn abort_all(&mut self, now: Instant, stack: &mut Stack) {
        for (handle, _) in self.connections.drain() {
            let _ = stack.tcp_abort(now, handle);
        }
    }

    fn udp_readable(&mut self, now: Instant, stack: &mut Stack, handle: UdpHandle) {
        let Some(&service) = self.udp.get(&handle) else {
            return;
        };
        while let Ok(Some(datagram)) = stack.udp_recv_from(handle) {
            self.stats.udp_datagrams_in += 1;
            let reply = match service {
                Service::Echo => &datagram.payload[..],
                Service::Discard => continue,
                Service::Chargen => {
                    // "a random number (between 0 and 512) of characters" [RFC 864].
                    let len = (self.next_random() % 513) as usize;
                    let start = (self.next_random() % CHARGEN_CHARACTERS as u64) as usize
                        * (CHARGEN_LINE + 2);
                    &self.pattern[start..start + len]
                }
            };
            match stack.udp_send_to(now, handle, datagram.source, reply) {
                Ok(()) => self.stats.udp_datagrams_out += 1,
                Err(_) => self.stats.udp_send_errors += 1,
            }
        }
    }

    fn accept(&mut self, now: Instant, stack: &mut Stack, listener: TcpHandle) {
        let Some(&service) = self.listeners.get(&listener) else {
            return;
        };
        while let Ok(Some((handle, _peer))) = stack.tcp_accept(listener) {
            self.stats.tcp_accepted += 1;
            // Echo answers each read at once; Nagle would hold back small echoes.
            let _ = stack.tcp_set_nodelay(handle, service == Service::Echo);
            self.connections.insert(
                handle,
                Connection {
                    service,
                    pending: Vec::new(),
                    chargen_offset: 0,
                    peer_finished: false,
                    closed: false,
                },
            );
            if service == Service::Chargen {
                self.writable(now, stack, handle);
            }
            // Data may have come with the handshake.
            self.readable(now, stack, handle);
        }
    }

    fn readable(&mut self, now: Instant, stack: &mut Stack, handle: TcpHandle) {
        let Some(conn) = self.connections.get_mut(&handle) else {
            return;
        };
        loop {
            if conn.closed || conn.peer_finished {
                break;
            }
            if conn.service == Service::Echo && !conn.pending.is_empty() {
                // Wait for TcpWritable: reading more now would only pile it up here.
                break;
            }
            match stack.tcp_recv(now, handle, &mut self.buffer) {
                Ok(0) => conn.peer_finished = true,
                Ok(n) => {
                    let data = &self.buffer[..n];
                    match conn.service {
                        Service::Echo => {
                            self.stats.echo_octets_in += n as u64;
                            let sent = stack.tcp_send(now, handle, data).unwrap_or(0);
                            self.stats.echo_octets_out += sent as u64;
                            conn.pending.extend_from_slice(&data[sent..]);
                        }
                        Service::Discard => self.stats.discard_octets += n as u64,
                        Service::Chargen => {}
                    }
                }
                Err(StackError::WouldBlock) => break,
                Err(_) => {
                    self.stats.tcp_errors += 1;
                    let _ = stack.tcp_abort(now, handle);
                    self.connections.remove(&handle);
                    return;
                }
            }
        }
        self.close_if_done(now, stack, handle);
    }

    fn writable(&mut self, now: Instant, stack: &mut Stack, handle: TcpHandle) {
        let Some(conn) = self.connections.get_mut(&handle) else {
            return;
        };
        if conn.closed {
            return;
        }
        match conn.service {
            Service::Echo => {
                if !conn.pending.is_empty() {
                    let sent = stack.tcp_send(now, handle, &conn.pending).unwrap_or(0);
                    self.stats.echo_octets_out += sent as u64;
                    conn.pending.drain(..sent);
                }
                if conn.pending.is_empty() {
                    // Reading stopped while the send buffer was full: go on.
                    self.readable(now, stack, handle);
                    return;
                }
            }
            Service::Discard => {}
            Service::Chargen => {
                // Keep the send buffer full; TcpWritable comes when it has room again.
                while !conn.peer_finished {
                    let from = conn.chargen_offset;
                    let chunk = &self.pattern[from..from + CHARGEN_CYCLE];
                    match stack.tcp_send(now, handle, chunk) {
                        Ok(n) => {
                            self.stats.chargen_octets += n as u64;
                            conn.chargen_offset = (from + n) % CHARGEN_CYCLE;
                            if n < chunk.len() {
                                break;
                            }
                        }
                        Err(_) => break,
                    }
                }
            }
        }
        self.close_if_done(now, stack, handle);
    }

    /// Once the peer has finished and everything owed is queued, close our side too: echo
    /// and discard end when the client does; chargen ends when the client closes
    /// [RFC 864: "until the calling user terminates the connection"].
    fn close_if_done(&mut self, now: Instant, stack: &mut Stack, handle: TcpHandle) {
        let Some(conn) = self.connections.get_mut(&handle) else {
            return;
        };
        if conn.peer_finished && conn.pending.is_empty() && !conn.closed {
            conn.closed = true;
            let _ = stack.tcp_close(now, handle);
            self.connections.remove(&handle);
        }
    }

    /// The connection reached CLOSED or failed: give the handle back.
    fn release(&mut self, now: Instant, stack: &mut Stack, handle: TcpHandle) {
        if self.connections.remove(&handle).is_some() {
            let _ = stack.tcp_close(now, handle);
        }
    }

    /// xorshift64*: chargen's datagram lengths need no better.
    fn next_random(&mut self) -> u64 {
        let mut x = self.random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32
    }
}

/// How `wirecheck host` runs.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The TAP device.
    pub tap: String,
    /// Create the device if it does not exist (it goes away when the host stops).
    pub create: bool,
    /// The host's address and prefix.
    pub address: Ipv4Cidr,
    /// The default gateway, if any.
    pub gateway: Option<Ipv4Addr>,
    /// The interface MTU.
    pub mtu: u16,
    /// The host's MAC address.
    pub mac: MacAddr,
    /// Record every frame in and out to this pcap file.
    pub pcap: Option<PathBuf>,
    /// Seed of the stack's randomness (ISN key, ephemeral ports, IP identification).
    pub seed: u64,
    /// TCP send and receive buffer per connection, octets.
    pub tcp_buffer: usize,
    /// Leave out pure ACKs superseded within one write batch
    /// ([`coalesce_acks`](wirecheck_stack::tap::coalesce_acks)).
    pub ack_coalescing: bool,
}

impl HostOptions {
    /// The default MAC for an address: locally administered, the address in the low four
    /// octets (`02:00:c0:00:02:02` for 192.0.2.2), so that captures are easy to read.
    pub fn default_mac(address: Ipv4Addr) -> MacAddr {
        let [a, b, c, d] = address.octets();
        MacAddr([0x02, 0x00, a, b, c, d])
    }
}

/// What a `wirecheck host` run did.
#[derive(Debug, Clone)]
pub struct HostReport {
    /// The device and loop counters.
    pub driver: DriverStats,
    /// The stack's counters.
    pub stack: Stats,
    /// The services' counters.
    pub services: ServiceStats,
    /// Frames written to the pcap file.
    pub pcap_records: u64,
}

/// The services plus the capture, as the TAP driver's application.
struct TapHost {
    services: Services,
    capture: Option<CaptureWriter>,
    capture_error: Option<std::io::Error>,
    /// The wall-clock time of the driver's `Instant::ZERO`.
    epoch: SystemTime,
}

impl Application for TapHost {
    fn poll(&mut self, now: Instant, stack: &mut Stack) {
        self.services.poll(now, stack);
    }

    fn frame(&mut self, _direction: Direction, now: Instant, bytes: &[u8]) {
        if let Some(capture) = &mut self.capture {
            let time = self.epoch + std::time::Duration::from_micros(now.as_micros());
            if let Err(e) = capture.write(time, bytes) {
                // Stop recording, keep serving; reported at the end.
                self.capture_error = Some(e);
                self.capture = None;
            }
        }
    }

    fn shutdown(&mut self, now: Instant, stack: &mut Stack) {
        self.services.poll(now, stack);
        self.services.abort_all(now, stack);
    }
}

/// Runs the stack with the services on the TAP device until stopped. `ready` is called with
/// the stop handle (for a Ctrl-C handler) and a one-line description once the host is up.
pub fn run_host(
    options: &HostOptions,
    ready: impl FnOnce(&StopHandle, &str),
) -> Result<HostReport, String> {
    let device = TapDevice::open(&options.tap, options.create).map_err(|e| e.to_string())?;
    // The kernel raises IFF_RUNNING (carrier) shortly after a process attaches; give it a
    // moment before warning that the link is down.
    let mut running = device.is_running();
    for _ in 0..20 {
        if running {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
        running = device.is_running();
    }
    let kernel_mtu = device.mtu().ok();
    let mut driver = TapDriver::new(device).map_err(|e| e.to_string())?;
    driver.set_ack_coalescing(options.ack_coalescing);
    let mut config = Config::default().with_seed(options.seed);
    config.tcp.send_buffer = options.tcp_buffer;
    config.tcp.receive_buffer = options.tcp_buffer;
    let mut stack = Stack::new(config);
    let mut iface_config = InterfaceConfig::ethernet(options.mac, options.address);
    iface_config.mtu = options.mtu;
    let now = driver.now();
    let iface = stack
        .add_interface(now, iface_config)
        .map_err(|e| format!("interface: {e:?}"))?;
    if let Some(gateway) = options.gateway {
        if !options.address.contains(gateway) {
            return Err(format!(
                "gateway {gateway} is not on the link {}",
                options.address
            ));
        }
        stack
            .add_route(Route::default_via(gateway, iface))
            .map_err(|e| format!("default route: {e:?}"))?;
    }
    let services = Services::start(&mut stack, Ipv4Addr::UNSPECIFIED)
        .map_err(|e| format!("services: {e:?}"))?;
    let capture = match &options.pcap {
        Some(path) => Some(
            CaptureWriter::create(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let mut host = TapHost {
        services,
        capture,
        capture_error: None,
        epoch: driver.system_time(Instant::ZERO),
    };
    let mut line = format!(
        "wirecheck host: {} ({}) on {}, MTU {}: ICMP echo; echo {ECHO_PORT}, discard \
         {DISCARD_PORT}, chargen {CHARGEN_PORT} over UDP and TCP",
        options.address,
        options.mac,
        driver.device().name(),
        options.mtu,
    );
    if let Some(g) = options.gateway {
        line.push_str(&format!("; gateway {g}"));
    }
    if !running {
        line.push_str(&format!(
            "\nwarning: {} is down: `ip link set {} up` on the kernel side",
            options.tap, options.tap
        ));
    }
    if let Some(m) = kernel_mtu.filter(|&m| m != options.mtu) {
        line.push_str(&format!(
            "\nwarning: the kernel's MTU on {} is {m}, ours is {}",
            options.tap, options.mtu
        ));
    }
    ready(&driver.stop_handle(), &line);
    let driver_stats = driver
        .run(&mut stack, iface, &mut host)
        .map_err(|e| e.to_string())?;
    let mut pcap_records = 0;
    if let Some(capture) = &mut host.capture {
        pcap_records = capture.records();
        if let Err(e) = capture.flush() {
            host.capture_error = Some(e);
        }
    }
    if let Some(e) = host.capture_error {
        return Err(format!(
            "writing {}: {e}",
            options.pcap.as_deref().unwrap_or("?".as_ref()).display()
        ));
    }
    Ok(HostReport {
        driver: driver_stats,
        stack: stack.stats().clone(),
        services: host.services.stats().clone(),
        pcap_records,
    })
}

/// The first `len` octets of the chargen stream: line `i` holds the 72 characters of the ring
/// starting at the `i`-th (modulo 95), then CR LF [RFC 864].
pub fn chargen_pattern(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + CHARGEN_LINE + 2);
    let mut line = 0usize;
    while out.len() < len {
        for k in 0..CHARGEN_LINE {
            let index = (line + k) % CHARGEN_CHARACTERS;
            out.push(if index == CHARGEN_CHARACTERS - 1 {
                b' '
            } else {
                CHARGEN_FIRST + index as u8
            });
        }
        out.extend_from_slice(b"\r\n");
        line += 1;
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirecheck_stack::sim::{Impairment, Network, NodeId};
    use wirecheck_stack::{Config, Duration, InterfaceConfig, Ipv4Cidr, MacAddr};

    const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

    struct Bench {
        net: Network,
        client: NodeId,
        server: NodeId,
        services: Services,
    }

    impl Bench {
        fn new() -> Bench {
            let mut net = Network::new(1);
            net.max_capture = 1;
            let lan = net.add_segment("lan", Impairment::default());
            let mut nodes = Vec::new();
            for (i, addr) in [CLIENT, SERVER].into_iter().enumerate() {
                let mut stack = Stack::new(Config::default().with_seed(10 + i as u64));
                let mac = MacAddr([2, 0, 0, 0, 0, 1 + i as u8]);
                let iface = stack
                    .add_interface(
                        net.now(),
                        InterfaceConfig::ethernet(mac, Ipv4Cidr::new(addr, 24)),
                    )
                    .unwrap();
                let node = net.add_node(if i == 0 { "client" } else { "server" }, stack);
                net.attach(node, iface, lan);
                nodes.push(node);
            }
            let services = Services::start(net.stack_mut(nodes[1]), Ipv4Addr::UNSPECIFIED)
                .expect("services start");
            Bench {
                net,
                client: nodes[0],
                server: nodes[1],
                services,
            }
        }

        /// One millisecond of the network, then the services act.
        fn step(&mut self) {
            self.net.run_for(Duration::from_millis(1));
            let now = self.net.now();
            self.services.poll(now, self.net.stack_mut(self.server));
        }

        fn now(&self) -> Instant {
            self.net.now()
        }

        fn client(&mut self) -> &mut Stack {
            self.net.stack_mut(self.client)
        }
    }

    #[test]
    fn chargen_pattern_is_rfc_864s() {
        // The first lines of RFC 864's example.
        let p = chargen_pattern(3 * 74);
        let mut expected = Vec::new();
        expected.extend_from_slice(
            b"!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n",
        );
        expected.extend_from_slice(
            b"\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghi\r\n",
        );
        expected.extend_from_slice(
            b"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghij\r\n",
        );
        assert_eq!(
            String::from_utf8_lossy(&p),
            String::from_utf8_lossy(&expected)
        );
        // The space closes the ring of 95: line 24 ends "~ !".
        let long = chargen_pattern(2 * CHARGEN_CYCLE);
        let line24 = &long[24 * 74..24 * 74 + 74];
        assert_eq!(&line24[69..], b"~ !\r\n");
        // After 95 lines the pattern repeats.
        assert_eq!(long[..CHARGEN_CYCLE], long[CHARGEN_CYCLE..]);
    }

    #[test]
    fn udp_echo_discard_and_chargen() {
        let mut b = Bench::new();
        let now = b.now();
        let sock = b
            .client()
            .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 40000))
            .unwrap();
        for (port, payload) in [(ECHO_PORT, &b"hello"[..]), (DISCARD_PORT, b"gone")] {
            b.client()
                .udp_send_to(now, sock, SocketAddrV4::new(SERVER, port), payload)
                .unwrap();
        }
        b.client()
            .udp_send_to(now, sock, SocketAddrV4::new(SERVER, CHARGEN_PORT), b"")
            .unwrap();
        let mut got = Vec::new();
        for _ in 0..50 {
            b.step();
            while let Ok(Some(d)) = b.client().udp_recv_from(sock) {
                got.push((d.source.port(), d.payload));
            }
        }
        while b.client().poll_event().is_some() {}
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], (ECHO_PORT, b"hello".to_vec()));
        let (port, chars) = &got[1];
        assert_eq!(*port, CHARGEN_PORT);
        assert!(chars.len() <= 512);
        let pattern = chargen_pattern(2 * CHARGEN_CYCLE);
        assert!(pattern.windows(chars.len()).any(|w| w == &chars[..]));
        assert_eq!(b.services.stats().udp_datagrams_in, 3);
    }

    /// Connects to `port`, sends `data` and half-closes, reads everything to the end (or
    /// `read_limit` octets), returns what came back.
    fn tcp_session(b: &mut Bench, port: u16, data: &[u8], read_limit: usize) -> Vec<u8> {
        let now = b.now();
        let c = b
            .client()
            .tcp_connect(now, SocketAddrV4::new(SERVER, port))
            .unwrap();
        let mut sent = 0;
        let mut shut = false;
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65536];
        for _ in 0..200_000 {
            b.step();
            let now = b.now();
            while b.client().poll_event().is_some() {}
            if sent < data.len() {
                if let Ok(n) = b.client().tcp_send(now, c, &data[sent..]) {
                    sent += n;
                }
            } else if !shut && read_limit == usize::MAX {
                b.client().tcp_shutdown(now, c).unwrap();
                shut = true;
            }
            loop {
                match b.client().tcp_recv(now, c, &mut buf) {
                    Ok(0) => {
                        b.client().tcp_close(now, c).unwrap();
                        return got;
                    }
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(StackError::WouldBlock) => break,
                    Err(e) => panic!("recv: {e:?}"),
                }
            }
            if got.len() >= read_limit {
                b.client().tcp_close(now, c).unwrap();
                return got;
            }
        }
        panic!("session on port {port} did not finish: got {}", got.len());
    }

    #[test]
    fn tcp_echo_returns_every_octet_and_closes_after_the_client() {
        let mut b = Bench::new();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let back = tcp_session(&mut b, ECHO_PORT, &data, usize::MAX);
        assert_eq!(back.len(), data.len());
        assert!(back == data);
        for _ in 0..100 {
            b.step();
        }
        assert_eq!(b.services.connection_count(), 0);
        assert_eq!(b.services.stats().echo_octets_in, data.len() as u64);
        assert_eq!(b.services.stats().echo_octets_out, data.len() as u64);
    }

    #[test]
    fn tcp_discard_counts_and_answers_nothing() {
        let mut b = Bench::new();
        let data = vec![0x5a; 200_000];
        let back = tcp_session(&mut b, DISCARD_PORT, &data, usize::MAX);
        assert!(back.is_empty());
        assert_eq!(b.services.stats().discard_octets, 200_000);
    }

    #[test]
    fn tcp_chargen_streams_the_pattern_until_the_client_closes() {
        let mut b = Bench::new();
        let got = tcp_session(&mut b, CHARGEN_PORT, b"", 250_000);
        assert!(got.len() >= 250_000);
        assert!(got == chargen_pattern(got.len()));
        for _ in 0..3000 {
            b.step();
        }
        assert_eq!(b.services.connection_count(), 0, "{:?}", b.services);
    }

    #[test]
    fn abort_all_resets_open_connections() {
        let mut b = Bench::new();
        let now = b.now();
        let c = b
            .client()
            .tcp_connect(now, SocketAddrV4::new(SERVER, DISCARD_PORT))
            .unwrap();
        for _ in 0..20 {
            b.step();
        }
        assert_eq!(b.services.connection_count(), 1);
        let now = b.now();
        let server = b.server;
        b.services.abort_all(now, b.net.stack_mut(server));
        let mut reset = false;
        for _ in 0..20 {
            b.step();
            while let Some(e) = b.client().poll_event() {
                reset |= matches!(e, Event::TcpError { handle, .. } if handle == c);
            }
        }
        assert!(reset);
    }
}
