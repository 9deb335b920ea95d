//! smoltcp 0.14 running the same TCP services as `wirecheck host` — echo (7), discard (9) and
//! chargen (19) — on a TAP device, so that the system tier can measure both stacks side by
//! side with the Linux kernel as the peer (`stack/tests/system/tap.sh --bench`).
//!
//! ```text
//! smoltcp_host --tap NAME --addr A/P [--tcp-buffer OCTETS] [--mac MAC]
//! ```
//!
//! The loop is smoltcp's own example pattern: `Interface::poll`, service the sockets, then
//! `phy::wait` until the next frame or `poll_delay`. Each service keeps a few listening
//! sockets (smoltcp accepts one connection per socket) and re-listens when one closes.

use std::os::unix::io::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{wait as phy_wait, Medium, TunTapInterface};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, Ipv4Address};

use wirecheck_conformance::host::chargen_pattern;

/// Listening sockets per service.
const SOCKETS_PER_SERVICE: usize = 4;
/// One cycle of the chargen pattern (95 lines of 74 octets).
const CHARGEN_CYCLE: usize = 95 * 74;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Service {
    Echo,
    Discard,
    Chargen,
}

struct Slot {
    handle: SocketHandle,
    service: Service,
    port: u16,
    chargen_offset: usize,
}

fn usage() -> ! {
    eprintln!("usage: smoltcp_host --tap NAME --addr A/P [--tcp-buffer OCTETS] [--mac MAC]");
    std::process::exit(2)
}

fn main() {
    let mut tap = None;
    let mut addr = None;
    let mut buffer = 256 * 1024;
    let mut mac = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--tap" => tap = Some(value()),
            "--addr" => addr = Some(value()),
            "--tcp-buffer" => buffer = value().parse().unwrap_or_else(|_| usage()),
            "--mac" => mac = Some(value()),
            _ => usage(),
        }
    }
    let (Some(tap), Some(addr)) = (tap, addr) else {
        usage()
    };
    let (ip, prefix) = addr.split_once('/').unwrap_or_else(|| usage());
    let ip: std::net::Ipv4Addr = ip.parse().unwrap_or_else(|_| usage());
    let prefix: u8 = prefix.parse().unwrap_or_else(|_| usage());
    let mac = match mac {
        Some(m) => EthernetAddress::from_bytes(
            &m.split(':')
                .map(|x| u8::from_str_radix(x, 16).unwrap_or_else(|_| usage()))
                .collect::<Vec<_>>(),
        ),
        None => {
            let [a, b, c, d] = ip.octets();
            EthernetAddress([0x02, 0x00, a, b, c, d])
        }
    };

    let mut device = TunTapInterface::new(&tap, Medium::Ethernet).unwrap_or_else(|e| {
        eprintln!("smoltcp_host: cannot attach to {tap}: {e}");
        std::process::exit(2)
    });
    let fd = device.as_raw_fd();
    let mut config = Config::new(mac.into());
    config.random_seed = 0x5eed;
    let mut iface = Interface::new(config, &mut device, Instant::now());
    iface.update_ip_addrs(|addrs| {
        let [a, b, c, d] = ip.octets();
        addrs
            .push(IpCidr::new(
                IpAddress::Ipv4(Ipv4Address::new(a, b, c, d)),
                prefix,
            ))
            .expect("one address");
    });

    let mut sockets = SocketSet::new(vec![]);
    let mut slots = Vec::new();
    for (service, port) in [
        (Service::Echo, 7),
        (Service::Discard, 9),
        (Service::Chargen, 19),
    ] {
        for _ in 0..SOCKETS_PER_SERVICE {
            let mut socket = tcp::Socket::new(
                tcp::SocketBuffer::new(vec![0; buffer]),
                tcp::SocketBuffer::new(vec![0; buffer]),
            );
            socket.listen(port).expect("listen");
            slots.push(Slot {
                handle: sockets.add(socket),
                service,
                port,
                chargen_offset: 0,
            });
        }
    }
    let pattern = chargen_pattern(2 * CHARGEN_CYCLE);

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst)).expect("Ctrl-C handler");
    }
    eprintln!("smoltcp_host: {addr} ({mac}) on {tap}: echo 7, discard 9, chargen 19 over TCP");

    let mut discarded = 0u64;
    let mut generated = 0u64;
    let mut echoed = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        iface.poll(now, &mut device, &mut sockets);
        for slot in &mut slots {
            let socket = sockets.get_mut::<tcp::Socket>(slot.handle);
            if !socket.is_open() {
                socket.listen(slot.port).expect("listen");
                slot.chargen_offset = 0;
                continue;
            }
            match slot.service {
                Service::Discard => {
                    while socket.can_recv() {
                        match socket.recv(|data| (data.len(), data.len())) {
                            Ok(n) => discarded += n as u64,
                            Err(_) => break,
                        }
                    }
                    if !socket.may_recv() && socket.may_send() {
                        socket.close();
                    }
                }
                Service::Echo => {
                    while socket.can_recv() && socket.can_send() {
                        let mut chunk = [0u8; 16 * 1024];
                        let room = socket.send_capacity() - socket.send_queue();
                        let n = match socket.recv_slice(&mut chunk[..room.min(16 * 1024)]) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let _ = socket.send_slice(&chunk[..n]);
                        echoed += n as u64;
                    }
                    if !socket.may_recv() && socket.may_send() && socket.send_queue() == 0 {
                        socket.close();
                    }
                }
                Service::Chargen => {
                    while socket.can_recv() {
                        if socket.recv(|data| (data.len(), ())).is_err() {
                            break;
                        }
                    }
                    if !socket.may_recv() && socket.may_send() {
                        socket.close();
                    } else {
                        while socket.can_send() {
                            let from = slot.chargen_offset;
                            let chunk = &pattern[from..from + CHARGEN_CYCLE];
                            match socket.send_slice(chunk) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    generated += n as u64;
                                    slot.chargen_offset = (from + n) % CHARGEN_CYCLE;
                                }
                            }
                        }
                    }
                }
            }
        }
        let delay = iface
            .poll_delay(now, &sockets)
            .map_or(Duration::from_millis(100), |d| {
                d.min(Duration::from_millis(100))
            });
        if let Err(e) = phy_wait(fd, Some(delay)) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                eprintln!("smoltcp_host: wait: {e}");
                break;
            }
        }
    }
    eprintln!(
        "smoltcp_host: stopped; echo {echoed} octets, discard {discarded} octets, chargen \
         {generated} octets"
    );
}
