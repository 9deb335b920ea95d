//! An in-memory network simulator for tests and conformance scenarios: several [`Stack`]s
//! joined by simulated Ethernet segments (each a shared medium: every frame reaches every
//! other port, and the stacks filter by MAC), with a seeded impairment model per segment —
//! loss, duplication, reordering, delay and jitter, and a link MTU — running in virtual time.
//!
//! ```
//! use wirecheck_stack::sim::Network;
//! let (mut net, fig) = Network::rfc1180_figure9(1);
//! let now = net.now();
//! let epsilon = wirecheck_stack::sim::RFC1180_EPSILON;
//! net.stack_mut(fig.alpha)
//!     .ping(now, &wirecheck_stack::icmp::EchoRequest::new(epsilon, 1, 1, b"hi"))
//!     .unwrap();
//! net.run_for(wirecheck_stack::Duration::from_secs(1));
//! assert!(matches!(
//!     net.stack_mut(fig.alpha).poll_event(),
//!     Some(wirecheck_stack::Event::EchoReply { .. })
//! ));
//! ```

use core::cmp::Reverse;
use core::net::Ipv4Addr;
use std::collections::{BTreeMap, BinaryHeap};

use wirecheck_codec::ethernet::MacAddr;
use wirecheck_codec::time::{Duration, Instant};

use crate::iface::{InterfaceConfig, InterfaceId, Ipv4Cidr};
use crate::ip::route::Route;
use crate::rng::Rng;
use crate::stack::{Config, Stack};

/// A node of a [`Network`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub usize);

/// A segment (an Ethernet broadcast domain) of a [`Network`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SegmentId(pub usize);

/// How a segment mistreats frames. Probabilities are per frame, drawn from the network's seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impairment {
    /// Probability that a frame is lost.
    pub loss: f64,
    /// Probability that a frame is delivered twice.
    pub duplicate: f64,
    /// Probability that a frame is held back by an extra `reorder_delay`, letting later frames
    /// overtake it.
    pub reorder: f64,
    /// The extra delay of a reordered frame.
    pub reorder_delay: Duration,
    /// Propagation delay of every frame.
    pub delay: Duration,
    /// A random extra delay up to this much.
    pub jitter: Duration,
    /// Frames whose IP payload exceeds this are dropped (a link whose MTU is smaller than a
    /// misconfigured sender believes). `None`: no limit.
    pub mtu: Option<u16>,
}

impl Impairment {
    /// A perfect link with a 100 µs delay.
    pub const PERFECT: Impairment = Impairment {
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
        reorder_delay: Duration::from_millis(5),
        delay: Duration::from_micros(100),
        jitter: Duration::ZERO,
        mtu: None,
    };
}

impl Default for Impairment {
    fn default() -> Impairment {
        Impairment::PERFECT
    }
}

/// A frame seen on a segment (as sent, before impairment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedFrame {
    /// When it was sent.
    pub time: Instant,
    /// Where.
    pub segment: SegmentId,
    /// By whom.
    pub from: NodeId,
    /// The frame.
    pub bytes: Vec<u8>,
}

#[derive(Debug)]
struct Node {
    name: String,
    stack: Stack,
    attachments: BTreeMap<InterfaceId, SegmentId>,
}

#[derive(Debug, Clone)]
struct Segment {
    name: String,
    impairment: Impairment,
    ports: Vec<(NodeId, InterfaceId)>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Instant,
    seq: u64,
    segment: SegmentId,
    from: (NodeId, InterfaceId),
    bytes: Vec<u8>,
}

/// Stacks wired together, in virtual time.
#[derive(Debug)]
pub struct Network {
    now: Instant,
    rng: Rng,
    nodes: Vec<Node>,
    segments: Vec<Segment>,
    in_flight: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    capture: Vec<CapturedFrame>,
    /// Most frames kept in the capture (older ones are dropped).
    pub max_capture: usize,
    /// Frames dropped by impairment (loss and MTU).
    pub dropped: u64,
}

/// The most steps at a single instant before the simulator declares a livelock.
const MAX_STEPS_PER_INSTANT: usize = 100_000;

impl Network {
    /// An empty network at time 0.
    pub fn new(seed: u64) -> Network {
        Network {
            now: Instant::ZERO,
            rng: Rng::new(seed ^ 0x5157_4e45_5457_4f52),
            nodes: Vec::new(),
            segments: Vec::new(),
            in_flight: BinaryHeap::new(),
            seq: 0,
            capture: Vec::new(),
            max_capture: 100_000,
            dropped: 0,
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Adds a node.
    pub fn add_node(&mut self, name: &str, stack: Stack) -> NodeId {
        self.nodes.push(Node {
            name: name.to_string(),
            stack,
            attachments: BTreeMap::new(),
        });
        NodeId(self.nodes.len() - 1)
    }

    /// Adds a segment.
    pub fn add_segment(&mut self, name: &str, impairment: Impairment) -> SegmentId {
        self.segments.push(Segment {
            name: name.to_string(),
            impairment,
            ports: Vec::new(),
        });
        SegmentId(self.segments.len() - 1)
    }

    /// Plugs a node's interface into a segment.
    pub fn attach(&mut self, node: NodeId, iface: InterfaceId, segment: SegmentId) {
        if let (Some(n), Some(s)) = (self.nodes.get_mut(node.0), self.segments.get_mut(segment.0)) {
            n.attachments.insert(iface, segment);
            s.ports.push((node, iface));
        }
    }

    /// Changes a segment's impairment.
    pub fn set_impairment(&mut self, segment: SegmentId, impairment: Impairment) {
        if let Some(s) = self.segments.get_mut(segment.0) {
            s.impairment = impairment;
        }
    }

    /// A node's stack.
    pub fn stack(&self, node: NodeId) -> &Stack {
        &self.nodes[node.0].stack
    }

    /// A node's stack, to call it (pass [`now`](Network::now) as the time).
    pub fn stack_mut(&mut self, node: NodeId) -> &mut Stack {
        &mut self.nodes[node.0].stack
    }

    /// A node's name.
    pub fn name(&self, node: NodeId) -> &str {
        &self.nodes[node.0].name
    }

    /// A segment's name.
    pub fn segment_name(&self, segment: SegmentId) -> &str {
        &self.segments[segment.0].name
    }

    /// Every frame sent so far, in order.
    pub fn captures(&self) -> &[CapturedFrame] {
        &self.capture
    }

    /// The frames sent on one segment.
    pub fn captures_on(&self, segment: SegmentId) -> impl Iterator<Item = &CapturedFrame> {
        self.capture.iter().filter(move |c| c.segment == segment)
    }

    /// Forgets the capture.
    pub fn clear_captures(&mut self) {
        self.capture.clear();
    }

    /// Puts a frame on a segment as if an outside node had sent it (delivered to every port
    /// after the segment's delay, subject to its impairment).
    pub fn inject(&mut self, segment: SegmentId, bytes: Vec<u8>) {
        let Some(s) = self.segments.get(segment.0) else {
            return;
        };
        let delay = s.impairment.delay;
        self.capture.push(CapturedFrame {
            time: self.now,
            segment,
            from: NodeId(usize::MAX),
            bytes: bytes.clone(),
        });
        self.seq += 1;
        self.in_flight.push(Reverse(InFlight {
            at: self.now + delay,
            seq: self.seq,
            segment,
            from: (NodeId(usize::MAX), InterfaceId(usize::MAX)),
            bytes,
        }));
    }

    /// Runs for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        let deadline = self.now + duration;
        self.run_until(deadline);
    }

    /// Runs until `deadline`: frames are delivered and timers fire in time order.
    ///
    /// Panics on a livelock: more than 100 000 steps without time advancing.
    pub fn run_until(&mut self, deadline: Instant) {
        let mut steps_here = 0usize;
        let mut last = self.now;
        loop {
            self.collect_transmits();
            let next_frame = self.in_flight.peek().map(|f| f.0.at);
            let next_timer = self
                .nodes
                .iter()
                .filter_map(|n| n.stack.poll_timeout())
                .min();
            let next = match (next_frame, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            if next > deadline {
                break;
            }
            self.now = self.now.max(next);
            if self.now == last {
                steps_here += 1;
                assert!(
                    steps_here < MAX_STEPS_PER_INSTANT,
                    "simulation livelock at {}",
                    self.now
                );
            } else {
                last = self.now;
                steps_here = 0;
            }
            let now = self.now;
            while self.in_flight.peek().is_some_and(|f| f.0.at <= now) {
                let Some(Reverse(frame)) = self.in_flight.pop() else {
                    break;
                };
                let ports = self.segments[frame.segment.0].ports.clone();
                for (node, iface) in ports {
                    if (node, iface) != frame.from {
                        self.nodes[node.0]
                            .stack
                            .handle_frame(now, iface, &frame.bytes);
                    }
                }
            }
            for n in &mut self.nodes {
                if n.stack.poll_timeout().is_some_and(|t| t <= now) {
                    n.stack.handle_timeout(now);
                }
            }
        }
        self.now = self.now.max(deadline);
        self.collect_transmits();
    }

    /// Moves every queued frame onto its segment.
    fn collect_transmits(&mut self) {
        let now = self.now;
        for index in 0..self.nodes.len() {
            while let Some(t) = self.nodes[index].stack.poll_transmit() {
                let Some(&segment) = self.nodes[index].attachments.get(&t.iface) else {
                    continue;
                };
                if self.capture.len() >= self.max_capture {
                    self.capture.remove(0);
                }
                self.capture.push(CapturedFrame {
                    time: now,
                    segment,
                    from: NodeId(index),
                    bytes: t.bytes.clone(),
                });
                let imp = self.segments[segment.0].impairment;
                if self.rng.chance(imp.loss)
                    || imp.mtu.is_some_and(|m| ip_len(&t.bytes) > usize::from(m))
                {
                    self.dropped += 1;
                    continue;
                }
                let copies = if self.rng.chance(imp.duplicate) { 2 } else { 1 };
                for _ in 0..copies {
                    let mut delay = imp.delay
                        + Duration::from_micros(self.rng.below_or_equal(imp.jitter.as_micros()));
                    if self.rng.chance(imp.reorder) {
                        delay = delay + imp.reorder_delay;
                    }
                    self.seq += 1;
                    self.in_flight.push(Reverse(InFlight {
                        at: now + delay,
                        seq: self.seq,
                        segment,
                        from: (NodeId(index), t.iface),
                        bytes: t.bytes.clone(),
                    }));
                }
            }
        }
    }
}

/// The IP total length of an Ethernet/IPv4 frame (the frame's payload length otherwise).
fn ip_len(frame: &[u8]) -> usize {
    match (frame.get(12..14), frame.get(16..18)) {
        (Some([0x08, 0x00]), Some(&[a, b])) => usize::from(u16::from_be_bytes([a, b])),
        _ => frame.len().saturating_sub(14),
    }
}

/// Alpha, on "development" [RFC 1180 § 5.5].
pub const RFC1180_ALPHA: Ipv4Addr = Ipv4Addr::new(223, 1, 2, 1);
/// Beta, on "development".
pub const RFC1180_BETA: Ipv4Addr = Ipv4Addr::new(223, 1, 2, 2);
/// Delta's address on "development" (devnetrouter).
pub const RFC1180_DELTA_DEVELOPMENT: Ipv4Addr = Ipv4Addr::new(223, 1, 2, 4);
/// Delta's address on "accounting" (the RFC's hosts file names it facnetrouter).
pub const RFC1180_DELTA_ACCOUNTING: Ipv4Addr = Ipv4Addr::new(223, 1, 3, 1);
/// Delta's address on "factory" (named accnetrouter in the RFC's hosts file).
pub const RFC1180_DELTA_FACTORY: Ipv4Addr = Ipv4Addr::new(223, 1, 4, 1);
/// Epsilon, on "accounting".
pub const RFC1180_EPSILON: Ipv4Addr = Ipv4Addr::new(223, 1, 3, 2);
/// Iota, on "factory".
pub const RFC1180_IOTA: Ipv4Addr = Ipv4Addr::new(223, 1, 4, 2);

/// The nodes and segments of [`Network::rfc1180_figure9`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure9 {
    /// 223.1.2.1 on development.
    pub alpha: NodeId,
    /// 223.1.2.2 on development.
    pub beta: NodeId,
    /// The router: 223.1.2.4 (interface 0, development), 223.1.3.1 (1, accounting),
    /// 223.1.4.1 (2, factory).
    pub delta: NodeId,
    /// 223.1.3.2 on accounting.
    pub epsilon: NodeId,
    /// 223.1.4.2 on factory.
    pub iota: NodeId,
    /// Ethernet 1, IP network 223.1.2 "development".
    pub development: SegmentId,
    /// Ethernet 2, IP network 223.1.3 "accounting".
    pub accounting: SegmentId,
    /// Ethernet 3, IP network 223.1.4 "factory".
    pub factory: SegmentId,
}

/// The MAC address the figure-9 helpers give host `host` on network `net` (02:00:00:00:net:host,
/// locally administered).
pub fn figure9_mac(net: u8, host: u8) -> MacAddr {
    MacAddr([0x02, 0, 0, 0, net, host])
}

impl Network {
    /// The internet of [RFC 1180 § 5.9, figure 9], with the addresses of its § 5.5 hosts file:
    /// alpha and beta on "development" (223.1.2/24), the router delta on all three networks,
    /// epsilon on "accounting" (223.1.3/24), iota on "factory" (223.1.4/24). Hosts route the
    /// other two networks through delta, as alpha's table 11 does (a default route through
    /// their network's delta address). Every link is perfect with MTU 1500.
    pub fn rfc1180_figure9(seed: u64) -> (Network, Figure9) {
        let mut net = Network::new(seed);
        let t = net.now();
        let development = net.add_segment("development", Impairment::PERFECT);
        let accounting = net.add_segment("accounting", Impairment::PERFECT);
        let factory = net.add_segment("factory", Impairment::PERFECT);
        let host = |net: &mut Network, name: &str, n: u8, h: u8, seg: SegmentId, seed: u64| {
            let mut s = Stack::new(Config::default().with_seed(seed));
            let addr = Ipv4Addr::new(223, 1, n, h);
            let i = s
                .add_interface(
                    t,
                    InterfaceConfig::ethernet(figure9_mac(n, h), Ipv4Cidr::new(addr, 24)),
                )
                .expect("interface");
            let gateway = Ipv4Addr::new(223, 1, n, if n == 2 { 4 } else { 1 });
            for other in [2u8, 3, 4].into_iter().filter(|o| *o != n) {
                s.add_route(Route::via(Ipv4Addr::new(223, 1, other, 0), 24, gateway, i))
                    .expect("route");
            }
            let id = net.add_node(name, s);
            net.attach(id, i, seg);
            id
        };
        let alpha = host(&mut net, "alpha", 2, 1, development, seed);
        let beta = host(&mut net, "beta", 2, 2, development, seed.wrapping_add(1));
        let epsilon = host(&mut net, "epsilon", 3, 2, accounting, seed.wrapping_add(2));
        let iota = host(&mut net, "iota", 4, 2, factory, seed.wrapping_add(3));
        let mut d = Stack::new(Config::router().with_seed(seed.wrapping_add(4)));
        let d0 = d
            .add_interface(
                t,
                InterfaceConfig::ethernet(
                    figure9_mac(2, 4),
                    Ipv4Cidr::new(RFC1180_DELTA_DEVELOPMENT, 24),
                ),
            )
            .expect("interface");
        let d1 = d
            .add_interface(
                t,
                InterfaceConfig::ethernet(
                    figure9_mac(3, 1),
                    Ipv4Cidr::new(RFC1180_DELTA_ACCOUNTING, 24),
                ),
            )
            .expect("interface");
        let d2 = d
            .add_interface(
                t,
                InterfaceConfig::ethernet(
                    figure9_mac(4, 1),
                    Ipv4Cidr::new(RFC1180_DELTA_FACTORY, 24),
                ),
            )
            .expect("interface");
        let delta = net.add_node("delta", d);
        net.attach(delta, d0, development);
        net.attach(delta, d1, accounting);
        net.attach(delta, d2, factory);
        // Let the gratuitous ARPs go out and settle.
        net.run_for(Duration::from_millis(10));
        net.clear_captures();
        (
            net,
            Figure9 {
                alpha,
                beta,
                delta,
                epsilon,
                iota,
                development,
                accounting,
                factory,
            },
        )
    }
}
