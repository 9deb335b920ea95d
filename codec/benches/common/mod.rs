//! Frames for the benchmarks: real frames read from the project's recorded captures and the
//! shared third-party captures, and a synthetic IMIX-like trace.
//!
//! The pcap reader here is deliberately tiny (classic pcap only: a 24-byte global header, then
//! 16-byte record headers; either byte order, micro- or nanosecond magic; link type 1,
//! Ethernet). A missing or unreadable file yields no frames, so the benches still run from a
//! checkout without the shared captures.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use wirecheck_codec::ethernet::{EtherType, EthernetHeader, MacAddr};
use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header};
use wirecheck_codec::tcp::{TcpFlags, TcpHeader, TcpOption, TcpOptions};
use wirecheck_codec::udp::UdpHeader;

/// Link type 1 (`LINKTYPE_ETHERNET`).
const LINKTYPE_ETHERNET: u32 = 1;

/// Reads the Ethernet frames of a classic pcap file (captured length of each record).
pub fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let Some(magic) = bytes.get(..4) else {
        return Vec::new();
    };
    let little = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return Vec::new(), // pcapng or something else
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    if u32_at(20) != Some(LINKTYPE_ETHERNET) {
        return Vec::new();
    }
    let mut frames = Vec::new();
    let mut at = 24;
    while let Some(captured) = u32_at(at + 8) {
        let start = at + 16;
        let Some(frame) = bytes.get(start..start + captured as usize) else {
            break;
        };
        frames.push(frame.to_vec());
        at = start + captured as usize;
    }
    frames
}

/// Where the captures live: `captures/recorded` of this checkout, and the shared third-party
/// captures (`WIRECHECK_SHARED_CAPTURES`, default `/work/shared/captures`).
fn capture_dirs() -> (PathBuf, PathBuf) {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let recorded = manifest.join("../captures/recorded");
    let recorded = if recorded.is_dir() {
        recorded
    } else {
        PathBuf::from("/work/main/captures/recorded")
    };
    let shared = std::env::var_os("WIRECHECK_SHARED_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/captures"));
    (recorded, shared)
}

/// Candidate frames for the common mix: `(source file, frame)`. The caller keeps the ones every
/// implementation under comparison can decode. Large captures are sampled with a stride so
/// that one web capture does not swamp the handshakes, pings and ARPs of the small ones.
pub fn capture_candidates() -> Vec<(String, Vec<u8>)> {
    let (recorded, shared) = capture_dirs();
    // (directory, file, keep every n-th frame)
    let files: [(&Path, &str, usize); 15] = [
        (&recorded, "tcp-transfer.pcap", 1),
        (&recorded, "tcp-refused.pcap", 1),
        (&recorded, "udp.pcap", 1),
        (&recorded, "ping.pcap", 1),
        (&recorded, "ping-mtu576.pcap", 1),
        (&recorded, "arp.pcap", 1),
        (&recorded, "arp-gratuitous.pcap", 1),
        (
            &shared,
            "suricata-verify/tcp-urgp-01-oob/tcp-urgent1.pcap",
            1,
        ),
        (&shared, "PcapPlusPlus/TcpPacketWithOptions2.pcap", 1),
        (&shared, "PcapPlusPlus/TcpPacketWithOptions3.pcap", 1),
        (&shared, "PcapPlusPlus/ArpRequestPacket.pcap", 1),
        (&shared, "PcapPlusPlus/ArpResponsePacket.pcap", 1),
        (&shared, "suricata-verify/bug-4571-05/ipv4.pcap", 1),
        (&shared, "tcpdump/eapon1.pcap", 3),
        (&shared, "PcapPlusPlus/example2.pcap", 37),
    ];
    let mut out = Vec::new();
    for (dir, name, stride) in files {
        for (i, frame) in read_pcap(&dir.join(name)).into_iter().enumerate() {
            if i % stride == 0 {
                out.push((name.to_string(), frame));
            }
        }
    }
    out
}

/// Deterministic pseudo-random bytes (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn fill(&mut self, out: &mut [u8]) {
        for b in out {
            *b = (self.next() >> 32) as u8;
        }
    }
}

/// Ethernet frame sizes (without FCS) of the IMIX classes: 60 (64 on the wire), 590 (an IPv4
/// datagram of 576, 594 on the wire) and 1514 (an IPv4 datagram of 1500, 1518 on the wire).
pub const IMIX_SMALL: usize = 60;
/// See [`IMIX_SMALL`].
pub const IMIX_MEDIUM: usize = 590;
/// See [`IMIX_SMALL`].
pub const IMIX_LARGE: usize = 1514;

/// What one IMIX frame carries.
#[derive(Clone, Copy)]
enum Shape {
    /// TCP with `options` (0: none, 12: NOP NOP timestamps), filling the frame with data.
    Tcp { frame_len: usize, timestamps: bool },
    /// UDP filling the frame with data.
    Udp { frame_len: usize },
}

/// One 12-frame IMIX cycle, 7:4:1 by size, 9 TCP and 3 UDP: the small frames are pure ACKs and
/// short requests (padded to the Ethernet minimum), the medium and large ones data segments
/// with timestamps as Linux sends them.
const CYCLE: [Shape; 12] = [
    Shape::Tcp {
        frame_len: IMIX_SMALL,
        timestamps: false,
    },
    Shape::Tcp {
        frame_len: IMIX_SMALL,
        timestamps: false,
    },
    Shape::Tcp {
        frame_len: IMIX_SMALL,
        timestamps: false,
    },
    Shape::Tcp {
        frame_len: IMIX_SMALL,
        timestamps: false,
    },
    Shape::Tcp {
        frame_len: IMIX_SMALL,
        timestamps: false,
    },
    Shape::Udp {
        frame_len: IMIX_SMALL,
    },
    Shape::Udp {
        frame_len: IMIX_SMALL,
    },
    Shape::Tcp {
        frame_len: IMIX_MEDIUM,
        timestamps: true,
    },
    Shape::Tcp {
        frame_len: IMIX_MEDIUM,
        timestamps: true,
    },
    Shape::Tcp {
        frame_len: IMIX_MEDIUM,
        timestamps: true,
    },
    Shape::Udp {
        frame_len: IMIX_MEDIUM,
    },
    Shape::Tcp {
        frame_len: IMIX_LARGE,
        timestamps: true,
    },
];

/// An IMIX-like trace of `cycles` × 12 frames in a fixed shuffled order, with varying
/// addresses, ports, sequence numbers and payload bytes. Built with the codec's own emitters;
/// the caller checks every frame against the other implementations before timing.
pub fn imix(cycles: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut frames = Vec::new();
    for cycle in 0..cycles {
        for (i, shape) in CYCLE.iter().enumerate() {
            let flow = (cycle * CYCLE.len() + i) as u8;
            frames.push(build(*shape, flow, &mut rng));
        }
    }
    // Fisher–Yates with the same generator: a fixed order the branch predictor cannot learn
    // from a short period.
    for i in (1..frames.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        frames.swap(i, j);
    }
    frames
}

fn build(shape: Shape, flow: u8, rng: &mut Rng) -> Vec<u8> {
    let client = Ipv4Addr::new(10, 0, flow / 16, 2 + flow % 16);
    let server = Ipv4Addr::new(192, 0, 2, 80);
    let client_mac = MacAddr([0x02, 0x00, 0x00, 0x00, 0x01, flow]);
    let server_mac = MacAddr([0x02, 0x00, 0x00, 0x00, 0x02, 0x01]);
    let ethernet = EthernetHeader::new(server_mac, client_mac, EtherType::IPV4);
    let mut ip = Ipv4Header::new(client, server, IpProtocol::TCP);
    ip.dont_fragment = true;
    ip.identification = rng.next() as u16;
    let frame_len = match shape {
        Shape::Tcp { frame_len, .. } | Shape::Udp { frame_len } => frame_len,
    };
    let mut frame = vec![0u8; frame_len];
    let mut at = ethernet.emit(&mut frame).expect("ethernet");
    match shape {
        Shape::Tcp { timestamps, .. } => {
            let mut option_bytes = [0u8; 12];
            let options = if timestamps {
                let n = TcpOption::write_all(
                    &[
                        TcpOption::NoOperation,
                        TcpOption::NoOperation,
                        TcpOption::Timestamps {
                            value: rng.next() as u32,
                            echo_reply: rng.next() as u32,
                        },
                    ],
                    &mut option_bytes,
                )
                .expect("options");
                TcpOptions::new(&option_bytes[..n]).expect("options")
            } else {
                TcpOptions::EMPTY
            };
            let mut tcp = TcpHeader::new(
                40000 + u16::from(flow),
                443,
                rng.next() as u32,
                rng.next() as u32,
                TcpFlags::ACK,
                502,
            );
            tcp.options = options;
            // Small frames: pure ACKs (padded to 60) and, every other one, 6 bytes of data.
            let room = frame_len - at - 20 - tcp.len();
            let data_len = if frame_len == IMIX_SMALL {
                if flow % 2 == 0 {
                    0
                } else {
                    room
                }
            } else {
                room
            };
            if data_len > 0 {
                tcp.flags = TcpFlags::ACK | TcpFlags::PSH;
            }
            let mut data = vec![0u8; data_len];
            rng.fill(&mut data);
            at += ip.emit(tcp.len() + data_len, &mut frame[at..]).expect("ip");
            tcp.emit(client, server, &data, &mut frame[at..])
                .expect("tcp");
        }
        Shape::Udp { .. } => {
            ip.protocol = IpProtocol::UDP;
            let udp = UdpHeader::new(50000 + u16::from(flow), 53);
            let mut data = vec![0u8; frame_len - at - 20 - 8];
            rng.fill(&mut data);
            at += ip.emit(8 + data.len(), &mut frame[at..]).expect("ip");
            udp.emit(client, server, &data, &mut frame[at..])
                .expect("udp");
        }
    }
    frame
}
