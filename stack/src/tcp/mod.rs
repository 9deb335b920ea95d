//! TCP [RFC 9293] with RTO per RFC 6298, congestion control per RFC 5681/6582, window scale
//! and timestamps per RFC 7323, SACK per RFC 2018/6675 with D-SACK per RFC 2883, the
//! hardening of RFC 5961 and ISNs per RFC 6528: the connection table and listeners, the
//! application calls, and the glue between the IP layer and the per-connection state
//! machines. One submodule per concern:
//!
//! - `connection`: the TCB, segment arrival (§ 3.10.7), output, timers;
//! - `segment`: decoded arriving segments and segments to send;
//! - `buffer`: bounded send and receive buffers (with out-of-order ranges for SACK);
//! - `rtt`: the retransmission timeout (RFC 6298);
//! - `congestion`: NewReno and the SACK scoreboard (RFC 5681, 6582, 6675);
//! - `isn`: initial sequence numbers (RFC 6528);
//! - `seq`: sequence number arithmetic modulo 2³².
//!
//! # Listen queues
//!
//! A listener has a SYN queue (half-open connections in SYN-RECEIVED) and an accept queue
//! (established connections not yet taken by [`Stack::tcp_accept`]):
//!
//! - the SYN queue holds at most [`TcpConfig::max_syn_backlog`] connections; a SYN arriving
//!   when it is full evicts the **oldest** half-open connection (silently: under a SYN flood
//!   its peer is likely spoofed), so a flood costs bounded memory and a real client that
//!   answers promptly still gets through;
//! - the accept queue holds at most `backlog` connections; while it is full new SYNs are
//!   dropped and the ACK completing a handshake is ignored (the SYN-ACK is retransmitted and
//!   the handshake completes once the application accepts), as Linux does;
//! - a half-open connection costs no buffer memory: buffers are allocated on first use;
//! - the whole table holds at most [`TcpConfig::max_connections`] connections (TIME-WAIT
//!   included); when it is full, further SYNs are dropped and `tcp_connect` fails, unless
//!   [`TcpConfig::time_wait_recycling`] (off by default) lets a new connection take the
//!   place of a TIME-WAIT. A connection in TIME-WAIT holds no buffer memory once what it
//!   received has been read, nor does one in CLOSED, but for received data not yet read;
//! - a SYN for a connection in TIME-WAIT that the application has closed opens a new
//!   connection at once, through the listener on its local address, when it is no old
//!   duplicate by RFC 6191's test as Linux reads it (with timestamps on both incarnations a
//!   newer TSval; otherwise a sequence number beyond RCV.NXT). The new ISS is above
//!   everything the old connection sent, and the old connection goes back to TIME-WAIT if
//!   the new one fails before it is established (a RST for its SYN,ACK says the SYN was an
//!   old duplicate) [RFC 9293 § 3.6.1 MAY-2, SHLD-4]. Other SYNs there get an ACK (RFC
//!   5961 § 4).
//!
//! # When ACKs go out
//!
//! A segment that arrives alone (the driver polls between frames) is acknowledged as RFC 9293
//! § 3.8.6.3 and RFC 5681 § 4.2 say: at least every second full-sized segment, otherwise
//! after at most [`TcpConfig::ack_delay`], and at once for out-of-order data or data that
//! fills a hole. Segments handed in together, between two polls for frames or timeouts, are
//! a queue in the sense of RFC 9293 § 3.10.7.4: all are processed before any ACK is sent,
//! and one ACK covers them (MUST-58, MUST-59), as receive offload does in Linux. Two
//! consequences a peer may see:
//!
//! - once a connection has sent 16 ACKs, a batch of many full-sized segments draws one ACK,
//!   not one per two segments (a stretch ACK; SHLD-19 gives way to MUST-58 here). After
//!   out-of-order data, after a batch of fewer than 32 segments, and at the start of a
//!   connection, the next 16 ACKs again go every second segment, so a sender in slow start
//!   or recovery is not slowed;
//! - several out-of-order segments in one batch draw one duplicate ACK, not one each (with
//!   SACK, its blocks describe them all). A sender without SACK counting duplicate ACKs sees
//!   fewer of them than with one frame per poll;
//! - octets that arrive again draw an ACK at once whose first SACK block (a D-SACK block,
//!   RFC 2883) reports them; of several duplicates in one batch, the ACK reports the last.
//!
//! # Replies to unacceptable segments, and their limits
//!
//! Two limits keep the replies RFC 9293 and RFC 5961 ask for from being turned into floods:
//!
//! - challenge ACKs (a SYN on a synchronized connection, a RST in the window but not at
//!   RCV.NXT; RFC 5961 § 3–4): about [`TcpConfig::challenge_ack_limit`] a second for the
//!   whole stack, the budget of each second drawn at random [RFC 5961 § 7];
//! - the ACK that answers an unacceptable bare ACK (outside the receive window, RFC 9293
//!   § 3.10.7.4; rejected by PAWS, RFC 7323 § 5.3; acknowledging something not yet sent or
//!   older than SND.UNA − MAX.SND.WND, RFC 5961 § 5.2): one per
//!   [`TcpConfig::invalid_ack_interval`] (500 ms) per connection, as Linux's
//!   `net.ipv4.tcp_invalid_ratelimit`. The first goes at once. Without it, two ends whose
//!   states disagree (a segment injected into one, a desynchronised peer) each find the
//!   other's ACKs unacceptable and answer them, without end. A segment that occupies
//!   sequence space (data or FIN) is always answered: its answer is a bare ACK, which cannot
//!   keep a loop going, and its sender needs it (a retransmission whose ACK was lost, a FIN
//!   retransmitted to TIME-WAIT, a keep-alive probe with one octet). A bare keep-alive probe
//!   (SEG.SEQ = RCV.NXT − 1) is an unacceptable bare ACK too and comes under the limit, as in
//!   Linux: probes come 75 s apart by default, so only a second probe within 500 ms of
//!   another unacceptable segment goes unanswered. TIME-WAIT applies the same rule, as
//!   Linux's does. Replies held back are counted in [`TcpStats::invalid_acks_suppressed`].

pub(crate) mod buffer;
pub(crate) mod congestion;
pub(crate) mod connection;
pub(crate) mod isn;
pub(crate) mod rtt;
pub(crate) mod segment;
pub(crate) mod seq;

#[cfg(test)]
mod tests;

use core::net::{Ipv4Addr, SocketAddrV4};
use std::collections::{BTreeMap, HashMap, VecDeque};

use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header};
use wirecheck_codec::tcp::TcpFlags;
use wirecheck_codec::time::{Duration, Instant};

use crate::iface::InterfaceId;
use crate::ip::frame::{self, fold16, pseudo_header_sum, HeaderTemplate, Ipv4Fields};
use crate::ip::options::ReturnRoute;
use crate::ip::{Destination, SendParams};
use crate::stack::{Event, NetworkError, NetworkErrorKind, Origin, Stack, StackError};

use connection::{ChallengeAckLimiter, ConnEvent, Ctx, PeerSyn, Tcb};
use isn::IsnGenerator;
use segment::{Segment, SegmentFields};
use seq::Seq;

/// Keep-alive settings [RFC 1122 § 4.2.3.6].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAlive {
    /// Idle time before the first probe (RFC 1122: no less than two hours by default).
    pub idle: Duration,
    /// Between unanswered probes.
    pub interval: Duration,
    /// Unanswered probes before the connection is declared dead.
    pub count: u32,
}

impl Default for KeepAlive {
    fn default() -> KeepAlive {
        KeepAlive {
            idle: Duration::from_secs(7200),
            interval: Duration::from_secs(75),
            count: 9,
        }
    }
}

/// The largest receive buffer a socket may ask for with [`TcpSocketOptions::receive_buffer`]
/// (larger sizes are cut to it): 4 MiB, a window scale of 7 [RFC 7323 § 2.3].
pub const MAX_RECEIVE_BUFFER: usize = 4 << 20;

/// The longest delayed-ACK delay, 499 ms: [`TcpConfig::ack_delay`] is cut to it, the delay
/// being bound to less than 0.5 s [RFC 9293 § 3.8.6.3 MUST-40].
pub const MAX_ACK_DELAY: Duration = Duration::from_millis(499);

/// Options of one socket that are fixed when its connection opens: given to
/// [`Stack::tcp_connect_with`] for an active open, or to a listener
/// ([`Stack::tcp_listen_with`], [`Stack::tcp_set_receive_buffer`]) for the connections its
/// SYNs open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpSocketOptions {
    /// Receive buffer in octets, instead of [`TcpConfig::receive_buffer`]: the most window
    /// the connection offers, and the window scale it offers is the smallest that lets the
    /// whole buffer be advertised [RFC 7323 § 2.3]. Cut to 1..=[`MAX_RECEIVE_BUFFER`].
    pub receive_buffer: Option<usize>,
}

impl TcpSocketOptions {
    /// The receive buffer a connection opening with these options gets on a stack with
    /// `config`.
    pub fn receive_buffer_in(&self, config: &TcpConfig) -> usize {
        self.receive_buffer
            .map_or(config.receive_buffer, |n| n.clamp(1, MAX_RECEIVE_BUFFER))
    }

    /// The configuration a connection opens with: the stack's, with these options applied.
    fn apply(&self, config: &TcpConfig) -> TcpConfig {
        TcpConfig {
            receive_buffer: self.receive_buffer_in(config),
            ..*config
        }
    }
}

/// TCP settings. Every table and buffer is bounded by one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConfig {
    /// Most connections (any state but LISTEN, TIME-WAIT included).
    pub max_connections: usize,
    /// When the table is full and a connection is wanted (a SYN for a listener,
    /// [`Stack::tcp_connect`]), end the TIME-WAIT of the closed connection whose wait ends
    /// soonest to make room for it. Off by default: every TIME-WAIT then lasts its whole
    /// 2·MSL [RFC 9293 § 3.6.1 MUST-13] and new connections are refused until one ends. On,
    /// a busy server that closes first keeps accepting, at the cost MUST-13 guards against
    /// (an old duplicate may reach a new incarnation of the same pair); Linux makes a
    /// similar trade when its TIME-WAIT table is full, letting a closing connection skip
    /// TIME-WAIT.
    pub time_wait_recycling: bool,
    /// Most listeners.
    pub max_listeners: usize,
    /// Most half-open connections per listener (the SYN queue); the oldest goes first.
    pub max_syn_backlog: usize,
    /// Upper bound of the `backlog` given to [`Stack::tcp_listen`] (the accept queue).
    pub max_accept_backlog: usize,
    /// Send buffer per connection, octets.
    pub send_buffer: usize,
    /// Receive buffer per connection, octets (the most window we offer).
    pub receive_buffer: usize,
    /// RTO before any RTT sample [RFC 6298 § 2.1: 1 s].
    pub initial_rto: Duration,
    /// Lower bound of the RTO [RFC 6298 § 2.4: 1 s].
    pub min_rto: Duration,
    /// Maximum segment lifetime; TIME-WAIT lasts 2·MSL [RFC 9293 § 3.4.2: 2 minutes is the
    /// RFC's engineering choice; 60 s here, as most systems].
    pub msl: Duration,
    /// Delayed-ACK bound (200 ms by default). Zero acknowledges every segment at once. The
    /// delay must be less than 0.5 s [RFC 9293 § 3.8.6.3 MUST-40, RFC 1122 § 4.2.3.2]: a
    /// longer one is cut to [`MAX_ACK_DELAY`] when the [`Stack`] is made.
    pub ack_delay: Duration,
    /// Nagle's algorithm for new connections [RFC 896]; see [`Stack::tcp_set_nodelay`].
    pub nagle: bool,
    /// Initial window of 10 segments [RFC 6928] instead of RFC 5681's 2–4.
    pub initial_window_10: bool,
    /// Offer window scaling [RFC 7323 § 2].
    pub window_scaling: bool,
    /// Offer timestamps (RTTM and PAWS) [RFC 7323 § 3–5].
    pub timestamps: bool,
    /// Offer SACK [RFC 2018].
    pub sack: bool,
    /// Tail loss probes [RFC 8985 § 7] on connections that negotiated SACK: when the last
    /// segments of a flight (or every ACK for them) are lost, a probe goes after about two
    /// round trips instead of waiting for the retransmission timeout. On by default.
    pub tail_loss_probe: bool,
    /// Keep-alive for new connections (off by default, RFC 1122 § 4.2.3.6).
    pub keepalive: Option<KeepAlive>,
    /// Give up when data stays unacknowledged (or window probes unanswered) this long
    /// [RFC 9293 § 3.10.3 USER TIMEOUT; RFC 1122 § 4.2.3.5 R2]; 5 minutes by default.
    pub user_timeout: Duration,
    /// SYN (or SYN-ACK) retransmissions before giving up. An active open's SYN goes on
    /// being retransmitted for at least 3 minutes whatever this count [RFC 9293 § 3.8.3
    /// MUST-23, RFC 1122 § 4.2.3.5]: with the default (6 backoffs from 1 s, RTO capped at
    /// 60 s) SYNs go at 0, 1, 3, 7, 15, 31, 63 and 123 s and the open fails at 183 s.
    pub syn_retries: u32,
    /// Challenge ACKs per second, stack-wide, about this many on average [RFC 5961 § 7]; 1000
    /// by default. Each second's budget is drawn from ⌈limit / 2⌉ to ⌈limit / 2⌉ + limit − 1,
    /// so that an off-path attacker cannot count what is left of it (CVE-2016-5696).
    pub challenge_ack_limit: u32,
    /// Per connection, the shortest time between two ACKs sent in reply to unacceptable
    /// segments that occupy no sequence space (bare ACKs): outside the receive window
    /// [RFC 9293 § 3.10.7.4], rejected by PAWS [RFC 7323 § 5.3], or acknowledging something
    /// not yet sent or too old [RFC 5961 § 5.2]. The first such segment is answered at once,
    /// as RFC 9293 asks; further ones within the interval are dropped unanswered (counted in
    /// [`TcpStats::invalid_acks_suppressed`]). Without it, two ends whose states have come
    /// apart (a segment injected into one of them, a peer that lost its state) each find
    /// the other's ACKs unacceptable and answer each with another, an ACK storm that never
    /// ends. Segments with data or a FIN, and SYNs and RSTs (challenge ACKs, limited by
    /// [`challenge_ack_limit`](TcpConfig::challenge_ack_limit)), are not affected. 500 ms by
    /// default, as Linux's `net.ipv4.tcp_invalid_ratelimit`; zero answers every one.
    pub invalid_ack_interval: Duration,
    /// The ephemeral port range for `tcp_connect`.
    pub ephemeral_ports: (u16, u16),
    /// Set DF and follow ICMP fragmentation needed [RFC 1191].
    pub path_mtu_discovery: bool,
}

impl Default for TcpConfig {
    fn default() -> TcpConfig {
        TcpConfig {
            max_connections: 1024,
            time_wait_recycling: false,
            max_listeners: 64,
            max_syn_backlog: 128,
            max_accept_backlog: 128,
            send_buffer: 64 * 1024,
            receive_buffer: 64 * 1024,
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_secs(1),
            msl: Duration::from_secs(60),
            ack_delay: Duration::from_millis(200),
            nagle: true,
            initial_window_10: false,
            window_scaling: true,
            timestamps: true,
            sack: true,
            tail_loss_probe: true,
            keepalive: None,
            user_timeout: Duration::from_secs(300),
            syn_retries: 6,
            challenge_ack_limit: 1000,
            invalid_ack_interval: Duration::from_millis(500),
            ephemeral_ports: (49152, 65535),
            path_mtu_discovery: true,
        }
    }
}

/// A TCP socket (listener or connection) of a [`Stack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TcpHandle(pub u32);

/// The connection states [RFC 9293 § 3.3.2].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

/// Why a connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpError {
    /// The peer answered the SYN with a reset ("connection refused").
    Refused,
    /// The peer reset the connection.
    Reset,
    /// Data (or a SYN, or keep-alives, or window probes) went unanswered past the user
    /// timeout or retry limit.
    TimedOut,
    /// A hard ICMP error (protocol or port unreachable) [RFC 1122 § 4.2.3.9].
    Unreachable(NetworkError),
}

/// A snapshot of a connection's state, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct TcpInfo {
    pub state: TcpState,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub send_mss: usize,
    pub cwnd: usize,
    pub ssthresh: usize,
    pub send_window: usize,
    pub rto: Duration,
    pub srtt: Option<Duration>,
    pub window_scaling: bool,
    pub timestamps: bool,
    pub sack: bool,
    pub unacknowledged: usize,
    pub send_queued: usize,
    pub readable: usize,
    pub in_recovery: bool,
    /// The receive buffer: the most window the connection offers.
    pub receive_buffer: usize,
}

/// TCP counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct TcpStats {
    pub segments_in: u64,
    pub segments_out: u64,
    /// Segments built but refused by the IP layer (no route, too long to send with DF, no
    /// interface): counted in `segments_out` too.
    pub segments_not_sent: u64,
    pub bad_checksum: u64,
    pub malformed: u64,
    pub not_unicast: u64,
    pub resets_sent: u64,
    pub resets_received: u64,
    pub retransmits: u64,
    pub timeouts: u64,
    pub fast_retransmits: u64,
    /// Retransmissions found lost in recovery and resent before the timer expired.
    pub lost_retransmissions: u64,
    /// Tail loss probes sent [RFC 8985 § 7.3].
    pub tail_loss_probes: u64,
    pub duplicate_acks: u64,
    pub out_of_window: u64,
    pub paws_rejected: u64,
    /// Segments dropped for lacking the timestamp option once it was negotiated.
    pub timestamp_missing: u64,
    pub challenge_acks: u64,
    pub challenge_acks_suppressed: u64,
    pub ack_of_unsent: u64,
    pub ack_too_old: u64,
    /// ACKs not sent in reply to unacceptable bare ACKs, because one had been sent less than
    /// [`TcpConfig::invalid_ack_interval`] before on the same connection.
    pub invalid_acks_suppressed: u64,
    pub out_of_order_drops: u64,
    pub window_probes: u64,
    pub keepalives_sent: u64,
    pub syn_queue_evictions: u64,
    pub syn_dropped: u64,
    /// Connections in TIME-WAIT reopened by a new SYN [RFC 6191].
    pub time_wait_reopened: u64,
    /// Connections reset because data arrived after the application closed them.
    pub data_after_close: u64,
    /// Connections reopened from TIME-WAIT whose new incarnation failed before it was
    /// established, back in TIME-WAIT [RFC 9293 § 3.6.1 MAY-2 (2)].
    pub time_wait_restored: u64,
    /// TIME-WAITs ended early to make room in a full table
    /// ([`TcpConfig::time_wait_recycling`]).
    pub time_wait_recycled: u64,
    pub path_mtu_updates: u64,
    pub icmp_ignored: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// The application holds the handle.
    User,
    /// Not yet accepted from this listener.
    Listener(TcpHandle),
    /// Closed by the application; freed on reaching CLOSED.
    Detached,
}

#[derive(Debug, Clone)]
struct Entry {
    tcb: Tcb,
    owner: Owner,
    /// The reversed source route of the SYN that opened the connection passively: every
    /// segment the connection sends carries it [RFC 1122 § 4.2.3.8; RFC 9293 MUST-53].
    /// Bounded: at most 40 octets of option.
    return_route: Option<ReturnRoute>,
    /// For a connection reopened from TIME-WAIT and not yet established, the old
    /// incarnation, which goes back to TIME-WAIT if the new one fails [RFC 9293 § 3.6.1
    /// MAY-2 (2)]. At most one per half-open connection.
    reopened_from: Option<Box<Tcb>>,
}

#[derive(Debug, Clone)]
struct Listener {
    local: SocketAddrV4,
    backlog: usize,
    syn_queue: VecDeque<TcpHandle>,
    accept_queue: VecDeque<TcpHandle>,
    /// What the connections its SYNs open get.
    options: TcpSocketOptions,
}

/// The route and next-hop MAC of the last segment sent (see `Stack::tcp_emit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutputCache {
    local: Ipv4Addr,
    remote: Ipv4Addr,
    /// The generations of the routing table, the ARP cache and the interfaces when read.
    generations: (u64, u64, u64),
    iface: InterfaceId,
    /// The Ethernet and IPv4 headers the general path writes, from `local` to `remote`.
    headers: HeaderTemplate,
    mtu: u16,
    /// The ARP binding's expiry.
    valid_until: Instant,
}

impl OutputCache {
    /// Whether the datagram of a frame built after [`frame::HEADROOM`] fits the MTU.
    fn fits(&self, frame: &[u8]) -> bool {
        frame::IPV4_LEN + frame.len().saturating_sub(frame::HEADROOM) <= usize::from(self.mtu)
    }
}

/// Whether a connection call raised only the event a segment of data raises, Readable on a
/// user's connection: delivered as `Stack::tcp_deliver_events` would, without its loop.
fn single_readable(events: &[ConnEvent], owner: Option<Owner>) -> bool {
    matches!((events, owner), ([ConnEvent::Readable], Some(Owner::User)))
}

/// The TCP part of a stack.
#[derive(Debug, Clone)]
pub(crate) struct TcpTable {
    conns: BTreeMap<TcpHandle, Entry>,
    listeners: BTreeMap<TcpHandle, Listener>,
    by_tuple: HashMap<(SocketAddrV4, SocketAddrV4), TcpHandle>,
    /// The last `by_tuple` hit: a bulk transfer looks up the same connection for every
    /// segment, and this spares it the keyed hash. Cleared whenever `by_tuple` changes.
    last_hit: Option<((SocketAddrV4, SocketAddrV4), TcpHandle)>,
    /// Connections whose delayed ACK fell due while handling input, with that instant: sent
    /// by [`Stack::tcp_send_due_acks`] when the driver polls, so that one ACK covers a whole
    /// batch of received segments.
    acks_due: Vec<(TcpHandle, Instant)>,
    /// Emptied vectors kept for the next connection call (see `with_tcb`).
    spare_out: Vec<Vec<u8>>,
    spare_events: Vec<ConnEvent>,
    output_cache: Option<OutputCache>,
    next_handle: u32,
    isn: IsnGenerator,
    limiter: ChallengeAckLimiter,
    stats: TcpStats,
}

impl TcpTable {
    /// `k0` and `k1` key the ISNs (RFC 6528); `limiter_seed` seeds the challenge-ACK budget.
    pub(crate) fn new(k0: u64, k1: u64, limiter_seed: u64) -> TcpTable {
        TcpTable {
            conns: BTreeMap::new(),
            listeners: BTreeMap::new(),
            by_tuple: HashMap::new(),
            last_hit: None,
            acks_due: Vec::new(),
            spare_out: Vec::new(),
            spare_events: Vec::new(),
            output_cache: None,
            next_handle: 0,
            isn: IsnGenerator::new(k0, k1),
            limiter: ChallengeAckLimiter::new(limiter_seed),
            stats: TcpStats::default(),
        }
    }

    /// The connection for a (local, remote) pair.
    #[inline]
    fn lookup(&mut self, local: SocketAddrV4, remote: SocketAddrV4) -> Option<TcpHandle> {
        let key = (local, remote);
        match self.last_hit {
            Some((k, h)) if k == key => Some(h),
            _ => {
                let h = *self.by_tuple.get(&key)?;
                self.last_hit = Some((key, h));
                Some(h)
            }
        }
    }

    fn alloc_handle(&mut self) -> TcpHandle {
        loop {
            let h = TcpHandle(self.next_handle);
            self.next_handle = self.next_handle.wrapping_add(1);
            if !self.conns.contains_key(&h) && !self.listeners.contains_key(&h) {
                return h;
            }
        }
    }

    fn listener_for(&self, local: SocketAddrV4) -> Option<TcpHandle> {
        self.listeners
            .iter()
            .find(|(_, l)| l.local == local)
            .or_else(|| {
                self.listeners
                    .iter()
                    .find(|(_, l)| l.local.port() == local.port() && l.local.ip().is_unspecified())
            })
            .map(|(h, _)| *h)
    }

    /// Forgets a connection entirely.
    fn remove(&mut self, h: TcpHandle) {
        self.take(h);
    }

    /// Takes a connection out of the table (its address pair and any listener queue
    /// forget it) and returns it.
    fn take(&mut self, h: TcpHandle) -> Option<Entry> {
        let e = self.conns.remove(&h)?;
        if self.by_tuple.get(&(e.tcb.local, e.tcb.remote)) == Some(&h) {
            self.by_tuple.remove(&(e.tcb.local, e.tcb.remote));
            self.last_hit = None;
        }
        if let Owner::Listener(l) = e.owner {
            if let Some(l) = self.listeners.get_mut(&l) {
                l.syn_queue.retain(|&x| x != h);
                l.accept_queue.retain(|&x| x != h);
            }
        }
        Some(e)
    }

    /// Whether a delayed ACK fell due while handling input and waits for the next poll.
    #[inline]
    pub(crate) fn has_acks_due(&self) -> bool {
        !self.acks_due.is_empty()
    }

    /// Connections in the table (every state but LISTEN).
    pub(crate) fn len(&self) -> usize {
        self.conns.len()
    }

    /// Every listener (as `Listen`) and connection with its state, by handle: for the fuzz
    /// driver's state-coverage tests.
    #[cfg(test)]
    pub(crate) fn states(&self) -> impl Iterator<Item = (TcpHandle, TcpState)> + '_ {
        let listeners = self.listeners.keys().map(|&h| (h, TcpState::Listen));
        listeners.chain(self.conns.iter().map(|(&h, e)| (h, e.tcb.state)))
    }

    pub(crate) fn check_invariants(&self, config: &TcpConfig) {
        assert!(self.conns.len() <= config.max_connections);
        assert!(self.listeners.len() <= config.max_listeners);
        for l in self.listeners.values() {
            assert!(l.syn_queue.len() <= config.max_syn_backlog);
            assert!(l.accept_queue.len() <= l.backlog);
        }
        for (h, e) in &self.conns {
            e.tcb.check_invariants();
            if e.tcb.state != TcpState::Closed {
                assert_eq!(self.by_tuple.get(&(e.tcb.local, e.tcb.remote)), Some(h));
            }
        }
        assert!(self.by_tuple.len() <= self.conns.len());
        if let Some((k, h)) = self.last_hit {
            assert_eq!(self.by_tuple.get(&k), Some(&h));
        }
    }
}

/// Runs `f` on a connection with a context, then lets the stack act on what it produced.
macro_rules! with_tcb {
    ($stack:expr, $now:expr, $h:expr, |$tcb:ident, $ctx:ident| $body:expr) => {
        with_tcb!($stack, $now, $h, |$tcb, $ctx, _owner, _listeners| $body)
    };
    // The body also sees the connection's owner and the listeners.
    (
        $stack:expr, $now:expr, $h:expr,
        |$tcb:ident, $ctx:ident, $owner:ident, $listeners:ident| $body:expr
    ) => {{
        // The vectors are the stack's, emptied by `tcp_after`: a segment costs no
        // allocation.
        let mut owner = None;
        let r = {
            let table = &mut $stack.tcp;
            match table.conns.get_mut(&$h) {
                Some(entry) => {
                    owner = Some(entry.owner);
                    let $tcb = &mut entry.tcb;
                    let $owner = entry.owner;
                    let $listeners = &table.listeners;
                    let mut ctx = Ctx {
                        now: $now,
                        config: &$stack.config.tcp,
                        out: &mut table.spare_out,
                        events: &mut table.spare_events,
                        limiter: &mut table.limiter,
                        stats: &mut table.stats,
                        frames: &mut $stack.frames,
                    };
                    let $ctx = &mut ctx;
                    let r = $body;
                    if $tcb.ack_due($now) {
                        $tcb.ack_listed = true;
                        table.acks_due.push(($h, $now));
                    }
                    Some(r)
                }
                None => None,
            }
        };
        $stack.tcp_after($now, $h, owner);
        r
    }};
}

impl Stack {
    // ------------------------------------------------------------ application calls

    /// Opens a listener on `local` (address 0.0.0.0 listens on every address) with an accept
    /// queue of `backlog` connections (at most [`TcpConfig::max_accept_backlog`]).
    pub fn tcp_listen(
        &mut self,
        local: SocketAddrV4,
        backlog: usize,
    ) -> Result<TcpHandle, StackError> {
        self.tcp_listen_with(local, backlog, TcpSocketOptions::default())
    }

    /// Like [`tcp_listen`](Stack::tcp_listen); the connections it accepts open with `options`.
    pub fn tcp_listen_with(
        &mut self,
        local: SocketAddrV4,
        backlog: usize,
        options: TcpSocketOptions,
    ) -> Result<TcpHandle, StackError> {
        let addr = *local.ip();
        if !addr.is_unspecified() && self.local_iface_of(addr).is_none() {
            return Err(StackError::AddressNotAvailable);
        }
        if local.port() == 0 {
            return Err(StackError::InvalidDestination);
        }
        if self
            .tcp
            .listeners
            .values()
            .any(|l| l.local.port() == local.port() && (l.local.ip() == local.ip()))
        {
            return Err(StackError::AddressInUse);
        }
        if self.tcp.listeners.len() >= self.config.tcp.max_listeners {
            return Err(StackError::TooManySockets);
        }
        let h = self.tcp.alloc_handle();
        self.tcp.listeners.insert(
            h,
            Listener {
                local,
                backlog: backlog.clamp(1, self.config.tcp.max_accept_backlog.max(1)),
                syn_queue: VecDeque::new(),
                accept_queue: VecDeque::new(),
                options,
            },
        );
        Ok(h)
    }

    /// Sets the receive buffer (see [`TcpSocketOptions::receive_buffer`]) of the connections
    /// a listener opens from SYNs arriving from now on, and returns the size they will get.
    /// A connection's buffer is fixed when it opens (its window scale is sent in its SYN):
    /// for an active open give it to [`tcp_connect_with`](Stack::tcp_connect_with); for any
    /// handle but a listener's this fails with [`StackError::InvalidHandle`].
    pub fn tcp_set_receive_buffer(
        &mut self,
        listener: TcpHandle,
        octets: usize,
    ) -> Result<usize, StackError> {
        let l = self
            .tcp
            .listeners
            .get_mut(&listener)
            .ok_or(StackError::InvalidHandle)?;
        l.options.receive_buffer = Some(octets);
        Ok(l.options.receive_buffer_in(&self.config.tcp))
    }

    /// The receive buffer of a connection, or the one a listener gives the connections it
    /// opens.
    pub fn tcp_receive_buffer(&self, handle: TcpHandle) -> Option<usize> {
        match self.tcp.listeners.get(&handle) {
            Some(l) => Some(l.options.receive_buffer_in(&self.config.tcp)),
            None => self
                .tcp
                .conns
                .get(&handle)
                .map(|e| e.tcb.info().receive_buffer),
        }
    }

    /// Takes an established connection from a listener's accept queue, with the peer's
    /// address; `None` if there is none yet ([`Event::TcpIncoming`] says when).
    pub fn tcp_accept(
        &mut self,
        listener: TcpHandle,
    ) -> Result<Option<(TcpHandle, SocketAddrV4)>, StackError> {
        let l = self
            .tcp
            .listeners
            .get_mut(&listener)
            .ok_or(StackError::InvalidHandle)?;
        let Some(h) = l.accept_queue.pop_front() else {
            return Ok(None);
        };
        let Some(e) = self.tcp.conns.get_mut(&h) else {
            return Ok(None);
        };
        e.owner = Owner::User;
        let remote = e.tcb.remote;
        if e.tcb.readable() > 0 || e.tcb.fin_received {
            self.push_event(Event::TcpReadable(h));
        }
        Ok(Some((h, remote)))
    }

    /// Whether [`tcp_accept`](Stack::tcp_accept) on this listener would hand over a
    /// connection now (`None` for a handle that is not a listener's).
    pub fn tcp_accept_ready(&self, listener: TcpHandle) -> Option<bool> {
        let l = self.tcp.listeners.get(&listener)?;
        Some(
            l.accept_queue
                .front()
                .is_some_and(|h| self.tcp.conns.contains_key(h)),
        )
    }

    /// Opens a connection to `remote` from an ephemeral port [RFC 9293 § 3.10.1]. The SYN
    /// goes out at once; [`Event::TcpConnected`] or [`Event::TcpError`] follows.
    pub fn tcp_connect(
        &mut self,
        now: Instant,
        remote: SocketAddrV4,
    ) -> Result<TcpHandle, StackError> {
        self.tcp_connect_from(now, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0), remote)
    }

    /// Like [`tcp_connect`](Stack::tcp_connect), from a given local address and port (0.0.0.0
    /// and port 0 pick them).
    pub fn tcp_connect_from(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
    ) -> Result<TcpHandle, StackError> {
        self.tcp_connect_with(now, local, remote, TcpSocketOptions::default())
    }

    /// Like [`tcp_connect_from`](Stack::tcp_connect_from), the connection opening with
    /// `options`.
    pub fn tcp_connect_with(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        options: TcpSocketOptions,
    ) -> Result<TcpHandle, StackError> {
        let dst = *remote.ip();
        if remote.port() == 0
            || dst.is_unspecified()
            || dst.is_multicast()
            || self.is_any_broadcast(dst)
        {
            return Err(StackError::InvalidDestination);
        }
        let route = self.route_output(dst, None)?;
        let addr = if local.ip().is_unspecified() {
            route.source
        } else if self.local_iface_of(*local.ip()).is_some() {
            *local.ip()
        } else {
            return Err(StackError::AddressNotAvailable);
        };
        if self.tcp.conns.len() >= self.config.tcp.max_connections
            && !self.tcp_time_wait_recyclable()
        {
            return Err(StackError::TooManySockets);
        }
        let port = if local.port() == 0 {
            self.tcp_ephemeral_port(addr, remote)?
        } else if self
            .tcp
            .by_tuple
            .contains_key(&(SocketAddrV4::new(addr, local.port()), remote))
        {
            return Err(StackError::AddressInUse);
        } else {
            local.port()
        };
        // Room is made only once the connection is sure to be opened.
        if self.tcp.conns.len() >= self.config.tcp.max_connections
            && !self.tcp_recycle_time_wait(now)
        {
            return Err(StackError::TooManySockets);
        }
        let local = SocketAddrV4::new(addr, port);
        let mtu = self.interface(route.iface).map_or(576, |i| i.mtu);
        let iss = Seq(self.tcp.isn.isn(now, local, remote));
        let ts_offset = self.rng.next_u64() as u32;
        let h = self.tcp.alloc_handle();
        // The socket's options are read when the TCB is made (its buffers, the window scale
        // of its SYN); later calls see the stack's configuration.
        let config = options.apply(&self.config.tcp);
        let tcb = {
            let mut ctx = Ctx {
                now,
                config: &config,
                out: &mut self.tcp.spare_out,
                events: &mut self.tcp.spare_events,
                limiter: &mut self.tcp.limiter,
                stats: &mut self.tcp.stats,
                frames: &mut self.frames,
            };
            Tcb::connect(&mut ctx, local, remote, iss, mtu, ts_offset)
        };
        self.tcp.conns.insert(
            h,
            Entry {
                tcb,
                owner: Owner::User,
                return_route: None,
                reopened_from: None,
            },
        );
        self.tcp.by_tuple.insert((local, remote), h);
        self.tcp.last_hit = None;
        self.tcp_after(now, h, Some(Owner::User));
        Ok(h)
    }

    /// A free ephemeral port for a connection to `remote`, from a random start
    /// [RFC 6056 § 3.3.1].
    fn tcp_ephemeral_port(
        &mut self,
        addr: Ipv4Addr,
        remote: SocketAddrV4,
    ) -> Result<u16, StackError> {
        let (low, high) = self.config.tcp.ephemeral_ports;
        let (low, high) = (low.max(1), high.max(low.max(1)));
        let span = u64::from(high - low) + 1;
        let start = self.rng.below_or_equal(span - 1);
        for i in 0..span {
            let port = low + ((start + i) % span) as u16;
            let local = SocketAddrV4::new(addr, port);
            let listening = self.tcp.listeners.values().any(|l| l.local.port() == port);
            if !listening && !self.tcp.by_tuple.contains_key(&(local, remote)) {
                return Ok(port);
            }
        }
        Err(StackError::NoFreePort)
    }

    /// Queues data; returns how much fit in the send buffer (0 when full:
    /// [`Event::TcpWritable`] says when room frees up).
    pub fn tcp_send(
        &mut self,
        now: Instant,
        handle: TcpHandle,
        data: &[u8],
    ) -> Result<usize, StackError> {
        self.tcp_send_inner(now, handle, data, false)
    }

    /// Queues urgent data [RFC 9293 § 3.8.5]: like [`tcp_send`](Stack::tcp_send), and the
    /// urgent pointer moves to just past the last octet that fit, so segments carry URG and
    /// an urgent pointer naming the octet after the urgent data (RFC 6093 § 4, the meaning
    /// every implementation uses) until the peer acknowledges it. The data is sent inline,
    /// without waiting for Nagle's algorithm. Use it for one short message at a time
    /// (RFC 6093 § 6 discourages urgent data in new applications).
    pub fn tcp_send_urgent(
        &mut self,
        now: Instant,
        handle: TcpHandle,
        data: &[u8],
    ) -> Result<usize, StackError> {
        self.tcp_send_inner(now, handle, data, true)
    }

    fn tcp_send_inner(
        &mut self,
        now: Instant,
        handle: TcpHandle,
        data: &[u8],
        urgent: bool,
    ) -> Result<usize, StackError> {
        let e = self
            .tcp
            .conns
            .get(&handle)
            .filter(|e| e.owner == Owner::User)
            .ok_or(StackError::InvalidHandle)?;
        if let Some(err) = e.tcb.error {
            return Err(StackError::Tcp(err));
        }
        if !e.tcb.can_send() {
            return Err(StackError::NotConnected);
        }
        let n = with_tcb!(self, now, handle, |tcb, ctx| tcb
            .send_data(ctx, data, urgent));
        self.drain_loopback(now);
        Ok(n.unwrap_or(0))
    }

    /// The receive urgent pointer as a count: how many octets from the next one
    /// [`tcp_recv`](Stack::tcp_recv) returns to the end of the peer's urgent data (the octet
    /// its urgent pointer names), or `None` when no urgent data lies ahead [RFC 9293 § 3.8.5,
    /// RFC 6093 § 4]. Urgent data is delivered inline; [`Event::TcpUrgent`] says when the
    /// pointer moves ahead. Reading exactly that many octets reaches the mark.
    pub fn tcp_urgent_mark(&self, handle: TcpHandle) -> Option<usize> {
        self.tcp.conns.get(&handle)?.tcb.urgent_mark()
    }

    /// Reads received data: `Ok(n)` with n > 0 bytes, `Ok(0)` at the end of the stream (the
    /// peer's FIN, everything read), [`StackError::WouldBlock`] when nothing is there yet.
    pub fn tcp_recv(
        &mut self,
        now: Instant,
        handle: TcpHandle,
        out: &mut [u8],
    ) -> Result<usize, StackError> {
        let e = self
            .tcp
            .conns
            .get(&handle)
            .filter(|e| e.owner == Owner::User)
            .ok_or(StackError::InvalidHandle)?;
        if e.tcb.readable() == 0 {
            if e.tcb.fin_received {
                return Ok(0);
            }
            if let Some(err) = e.tcb.error {
                return Err(StackError::Tcp(err));
            }
            if e.tcb.state == TcpState::Closed {
                return Err(StackError::NotConnected);
            }
            return Err(StackError::WouldBlock);
        }
        let n = with_tcb!(self, now, handle, |tcb, ctx| tcb.recv_data(ctx, out));
        self.drain_loopback(now);
        Ok(n.unwrap_or(0))
    }

    /// Closes the sending side: a FIN follows the queued data (half-close); receiving goes on.
    pub fn tcp_shutdown(&mut self, now: Instant, handle: TcpHandle) -> Result<(), StackError> {
        self.tcp
            .conns
            .get(&handle)
            .filter(|e| e.owner == Owner::User)
            .ok_or(StackError::InvalidHandle)?;
        with_tcb!(self, now, handle, |tcb, ctx| tcb.shutdown(ctx));
        self.drain_loopback(now);
        Ok(())
    }

    /// Closes a connection or a listener and gives up the handle. A connection is closed
    /// gracefully (FIN after the queued data, then the closing handshake and TIME-WAIT run on
    /// their own), unless received data was left unread: then it is reset
    /// [RFC 1122 § 4.2.2.13]. The application reads no more (a half-duplex close, RFC 9293
    /// § 3.6.1 MAY-1): data that arrives afterwards is answered with a RST, which ends the
    /// connection (SHLD-3); [`tcp_shutdown`](Stack::tcp_shutdown) closes only the sending
    /// direction. A listener's unaccepted connections are reset.
    pub fn tcp_close(&mut self, now: Instant, handle: TcpHandle) -> Result<(), StackError> {
        if let Some(l) = self.tcp.listeners.remove(&handle) {
            for h in l.syn_queue.into_iter().chain(l.accept_queue) {
                with_tcb!(self, now, h, |tcb, ctx| tcb.abort(ctx));
                self.tcp.remove(h);
            }
            self.drain_loopback(now);
            return Ok(());
        }
        let e = self
            .tcp
            .conns
            .get_mut(&handle)
            .filter(|e| e.owner == Owner::User)
            .ok_or(StackError::InvalidHandle)?;
        e.owner = Owner::Detached;
        let unread = e.tcb.readable() > 0;
        if e.tcb.state == TcpState::Closed {
            self.tcp.remove(handle);
            return Ok(());
        }
        if unread {
            with_tcb!(self, now, handle, |tcb, ctx| tcb.abort(ctx));
        } else {
            with_tcb!(self, now, handle, |tcb, ctx| {
                tcb.close_receive();
                tcb.shutdown(ctx)
            });
        }
        self.drain_loopback(now);
        Ok(())
    }

    /// Aborts a connection: a reset if it was synchronized; the handle is given up.
    pub fn tcp_abort(&mut self, now: Instant, handle: TcpHandle) -> Result<(), StackError> {
        if self.tcp.listeners.contains_key(&handle) {
            return self.tcp_close(now, handle);
        }
        let e = self
            .tcp
            .conns
            .get_mut(&handle)
            .filter(|e| e.owner == Owner::User)
            .ok_or(StackError::InvalidHandle)?;
        e.owner = Owner::Detached;
        with_tcb!(self, now, handle, |tcb, ctx| tcb.abort(ctx));
        self.tcp.remove(handle);
        self.drain_loopback(now);
        Ok(())
    }

    /// Turns Nagle's algorithm off (`true`) or on for a connection [RFC 1122 § 4.2.3.4].
    pub fn tcp_set_nodelay(&mut self, handle: TcpHandle, nodelay: bool) -> Result<(), StackError> {
        let e = self
            .tcp
            .conns
            .get_mut(&handle)
            .ok_or(StackError::InvalidHandle)?;
        e.tcb.nodelay = nodelay;
        Ok(())
    }

    /// Turns keep-alive on or off for this connection alone, with the timing of
    /// [`TcpConfig::keepalive`], or [`KeepAlive::default`] when that is `None`. Other
    /// connections, and those opened later, keep theirs.
    pub fn tcp_set_keepalive(&mut self, handle: TcpHandle, on: bool) -> Result<(), StackError> {
        let timing = self.config.tcp.keepalive.unwrap_or_default();
        let e = self
            .tcp
            .conns
            .get_mut(&handle)
            .ok_or(StackError::InvalidHandle)?;
        e.tcb.set_keepalive(on.then_some(timing));
        Ok(())
    }

    /// Sets a connection's user timeout [RFC 9293 § 3.10.3, RFC 5482].
    pub fn tcp_set_user_timeout(
        &mut self,
        handle: TcpHandle,
        timeout: Duration,
    ) -> Result<(), StackError> {
        let e = self
            .tcp
            .conns
            .get_mut(&handle)
            .ok_or(StackError::InvalidHandle)?;
        e.tcb.user_timeout = timeout;
        Ok(())
    }

    /// A connection's state (`Listen` for a listener).
    pub fn tcp_state(&self, handle: TcpHandle) -> Option<TcpState> {
        if self.tcp.listeners.contains_key(&handle) {
            return Some(TcpState::Listen);
        }
        self.tcp.conns.get(&handle).map(|e| e.tcb.state)
    }

    /// A snapshot of a connection.
    pub fn tcp_info(&self, handle: TcpHandle) -> Option<TcpInfo> {
        self.tcp.conns.get(&handle).map(|e| e.tcb.info())
    }

    /// Octets that can be queued with [`tcp_send`](Stack::tcp_send) now.
    pub fn tcp_send_capacity(&self, handle: TcpHandle) -> Option<usize> {
        self.tcp.conns.get(&handle).map(|e| e.tcb.send_free())
    }

    /// The TCP counters.
    pub fn tcp_stats(&self) -> &TcpStats {
        &self.tcp.stats
    }

    /// Connections in the table (every state but LISTEN, TIME-WAIT included).
    pub fn tcp_connection_count(&self) -> usize {
        self.tcp.len()
    }

    // ------------------------------------------------------------ IP side

    /// A TCP segment addressed to us (the IP layer's protocol 6 hook).
    pub(crate) fn tcp_input(
        &mut self,
        now: Instant,
        _iface: InterfaceId,
        class: Destination,
        header: &Ipv4Header<'_>,
        _datagram: &[u8],
        bytes: &[u8],
    ) -> bool {
        self.tcp.stats.segments_in += 1;
        if !class.is_unicast() {
            // TCP is unicast only: no reset to a broadcast or multicast segment.
            self.tcp.stats.not_unicast += 1;
            return true;
        }
        let length = bytes.len().min(usize::from(u16::MAX)) as u16;
        let pseudo = pseudo_header_sum(header.source, header.destination, 6, length);
        if fold16(pseudo + u64::from(frame::sum(bytes))) != 0xffff {
            self.tcp.stats.bad_checksum += 1;
            return true;
        }
        let Some(seg) = Segment::parse(bytes) else {
            self.tcp.stats.malformed += 1;
            return true;
        };
        if seg.source_port == 0 || seg.destination_port == 0 {
            self.tcp.stats.malformed += 1;
            return true;
        }
        let local = SocketAddrV4::new(header.destination, seg.destination_port);
        let remote = SocketAddrV4::new(header.source, seg.source_port);
        if let Some(h) = self.tcp.lookup(local, remote) {
            if !self.tcp_reopen_from_time_wait(now, h, local, remote, &seg, header) {
                self.tcp_segment_for(now, h, &seg);
            }
        } else if let Some(l) = self.tcp.listener_for(local) {
            let return_route = self.return_route(header);
            self.tcp_listen_input(now, l, local, remote, &seg, return_route, None);
        } else if !seg.has(TcpFlags::RST) {
            // CLOSED [RFC 9293 § 3.10.7.1].
            self.tcp.stats.resets_sent += 1;
            let frame = self.frames.take_stale();
            let rst = SegmentFields::reset_for(local, remote, &seg).build(frame, [&[], &[]]);
            self.tcp_emit(now, *local.ip(), *remote.ip(), rst);
        }
        true
    }

    /// The TCP part of the IP input fast path: a unicast segment from `source` to
    /// `destination` whose checksum is right, that decodes with no options or Timestamps
    /// alone, and for which a connection has
    /// the address pair (what [`tcp_input`](Stack::tcp_input) would find), is counted as the
    /// general path counts it and handed to the connection; anything else returns false,
    /// having changed nothing. (The segment is handed over where it was decoded: returning it
    /// to the caller cost a copy that stalled on store forwarding.)
    pub(crate) fn tcp_input_fast(
        &mut self,
        now: Instant,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        bytes: &[u8],
    ) -> bool {
        let length = bytes.len().min(usize::from(u16::MAX)) as u16;
        let pseudo = pseudo_header_sum(source, destination, 6, length);
        if fold16(pseudo + u64::from(frame::sum(bytes))) != 0xffff {
            return false;
        }
        let Some(seg) = Segment::parse_plain(bytes) else {
            return false;
        };
        // A SYN may reopen a connection in TIME-WAIT, which the general path decides.
        if seg.source_port == 0 || seg.destination_port == 0 || seg.has(TcpFlags::SYN) {
            return false;
        }
        let local = SocketAddrV4::new(destination, seg.destination_port);
        let remote = SocketAddrV4::new(source, seg.source_port);
        let Some(h) = self.tcp.lookup(local, remote) else {
            return false;
        };
        self.stats.ip_in += 1;
        self.stats.ip_delivered += 1;
        self.tcp.stats.segments_in += 1;
        self.tcp_segment_for(now, h, &seg);
        true
    }

    #[inline(always)]
    fn tcp_segment_for(&mut self, now: Instant, h: TcpHandle, seg: &Segment<'_>) {
        with_tcb!(self, now, h, |tcb, ctx, owner, listeners| {
            // A full accept queue holds the handshake back (see the module docs). (Nothing
            // else happens then: a connection in SYN-RECEIVED has no ACK due, having
            // accepted no text.)
            let held = match (tcb.state, owner) {
                (TcpState::SynReceived, Owner::Listener(l)) => {
                    let full = listeners
                        .get(&l)
                        .is_some_and(|l| l.accept_queue.len() >= l.backlog);
                    full && seg.has(TcpFlags::ACK) && !seg.has(TcpFlags::RST)
                }
                _ => false,
            };
            if held {
                ctx.stats.syn_dropped += 1;
            } else {
                tcb.input(ctx, seg);
            }
        });
    }

    /// The connection whose TIME-WAIT ends soonest among those the application has closed
    /// (one whose handle the application still holds would not free its slot), if recycling
    /// is on ([`TcpConfig::time_wait_recycling`]).
    fn tcp_time_wait_to_recycle(&self) -> Option<TcpHandle> {
        if !self.config.tcp.time_wait_recycling {
            return None;
        }
        self.tcp
            .conns
            .iter()
            .filter(|(_, e)| e.owner == Owner::Detached)
            .filter_map(|(h, e)| Some((e.tcb.time_wait_until()?, *h)))
            .min()
            .map(|(_, h)| h)
    }

    fn tcp_time_wait_recyclable(&self) -> bool {
        self.tcp_time_wait_to_recycle().is_some()
    }

    /// Makes room in a full table by ending the TIME-WAIT that
    /// [`tcp_time_wait_to_recycle`](Stack::tcp_time_wait_to_recycle) names. Returns whether
    /// a slot was freed.
    fn tcp_recycle_time_wait(&mut self, now: Instant) -> bool {
        let Some(h) = self.tcp_time_wait_to_recycle() else {
            return false;
        };
        with_tcb!(self, now, h, |tcb, ctx| tcb.end_time_wait(ctx));
        self.tcp.stats.time_wait_recycled += 1;
        !self.tcp.conns.contains_key(&h)
    }

    /// A SYN for connection `h` in TIME-WAIT that may open a new incarnation
    /// ([`Tcb::syn_may_reopen`], after RFC 6191) goes to the listener on the local address, if
    /// the listener will take it (room in its queues, and in the table: a connection the
    /// application has closed gives its slot to the new one, one whose handle it holds
    /// keeps it, and the application is told it closed). The old incarnation is kept with
    /// the new one until that is established, and goes back to TIME-WAIT should the new one
    /// fail (a RST for its SYN,ACK says the SYN was an old duplicate), and the new ISS is
    /// above every sequence number the old one used: RFC 9293 § 3.6.1 MAY-2's two
    /// conditions. Returns whether the SYN was taken.
    fn tcp_reopen_from_time_wait(
        &mut self,
        now: Instant,
        h: TcpHandle,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &Segment<'_>,
        header: &Ipv4Header<'_>,
    ) -> bool {
        if !seg.has(TcpFlags::SYN) || seg.has(TcpFlags::ACK) {
            return false;
        }
        let Some(l) = self.tcp.listener_for(local) else {
            return false;
        };
        let Some(listener) = self.tcp.listeners.get(&l) else {
            return false;
        };
        if listener.accept_queue.len() >= listener.backlog || self.config.tcp.max_syn_backlog == 0 {
            return false;
        }
        let new_timestamps =
            seg.timestamps.is_some() && listener.options.apply(&self.config.tcp).timestamps;
        let owner = match self.tcp.conns.get(&h) {
            Some(e) if e.tcb.syn_may_reopen(seg, new_timestamps) => e.owner,
            _ => return false,
        };
        if owner != Owner::Detached && self.tcp.conns.len() >= self.config.tcp.max_connections {
            return false;
        }
        // The old incarnation rides along with the new one: taken out of the table if the
        // application has closed it, else copied, the application's connection ending.
        let (old, old_route) = if owner == Owner::Detached {
            let Some(e) = self.tcp.take(h) else {
                return false;
            };
            (e.tcb, e.return_route)
        } else {
            let Some((tcb, route)) = self
                .tcp
                .conns
                .get(&h)
                .map(|e| (e.tcb.clone(), e.return_route))
            else {
                return false;
            };
            with_tcb!(self, now, h, |tcb, ctx| tcb.end_time_wait(ctx));
            (tcb, route)
        };
        let return_route = self.return_route(header);
        if let Some(tcb) =
            self.tcp_listen_input(now, l, local, remote, seg, return_route, Some(old))
        {
            // Not taken after all: TIME-WAIT goes on, under a handle of its own.
            let h = if owner == Owner::Detached {
                h
            } else {
                self.tcp.alloc_handle()
            };
            self.tcp.conns.insert(
                h,
                Entry {
                    tcb,
                    owner: Owner::Detached,
                    return_route: old_route,
                    reopened_from: None,
                },
            );
            self.tcp.by_tuple.insert((local, remote), h);
            self.tcp.last_hit = None;
            return false;
        }
        self.tcp.stats.time_wait_reopened += 1;
        true
    }

    /// A segment for a listener [RFC 9293 § 3.10.7.2]. `return_route`: the reversed
    /// source route the segment arrived with, if it carried a completed one.
    /// `reopened_from`: for a SYN reopening a connection from TIME-WAIT, the old incarnation
    /// (the new ISS is above its SND.MAX; it is kept with the new connection), given back
    /// if the SYN is not taken.
    #[allow(clippy::too_many_arguments)]
    fn tcp_listen_input(
        &mut self,
        now: Instant,
        l: TcpHandle,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &Segment<'_>,
        return_route: Option<ReturnRoute>,
        reopened_from: Option<Tcb>,
    ) -> Option<Tcb> {
        if seg.has(TcpFlags::RST) {
            return reopened_from;
        }
        if seg.has(TcpFlags::ACK) {
            self.tcp.stats.resets_sent += 1;
            let frame = self.frames.take_stale();
            let rst = SegmentFields::reset_for(local, remote, seg).build(frame, [&[], &[]]);
            self.tcp_emit(now, *local.ip(), *remote.ip(), rst);
            return reopened_from;
        }
        if !seg.has(TcpFlags::SYN) {
            return reopened_from;
        }
        let Some(listener) = self.tcp.listeners.get(&l) else {
            return reopened_from;
        };
        let listener_options = listener.options;
        if listener.accept_queue.len() >= listener.backlog {
            self.tcp.stats.syn_dropped += 1;
            return reopened_from;
        }
        if listener.syn_queue.len() >= self.config.tcp.max_syn_backlog {
            if let Some(oldest) = self
                .tcp
                .listeners
                .get_mut(&l)
                .and_then(|l| l.syn_queue.pop_front())
            {
                self.tcp.stats.syn_queue_evictions += 1;
                self.tcp_forget_half_open(oldest);
            }
        }
        if (self.tcp.conns.len() >= self.config.tcp.max_connections
            && !self.tcp_recycle_time_wait(now))
            || self.config.tcp.max_syn_backlog == 0
        {
            self.tcp.stats.syn_dropped += 1;
            return reopened_from;
        }
        let first_hop = return_route.map_or(*remote.ip(), |r| r.first_hop());
        // The header's options are padded to a multiple of four octets.
        let ip_options_len = return_route.map_or(0, |r| r.option().len().next_multiple_of(4));
        let mtu = self
            .route_output(first_hop, None)
            .ok()
            .and_then(|r| self.interface(r.iface))
            .map_or(576, |i| i.mtu);
        let mut iss = Seq(self.tcp.isn.isn(now, local, remote));
        if let Some(floor) = reopened_from
            .as_ref()
            .map(Tcb::snd_max)
            .filter(|&floor| iss <= floor)
        {
            // As Linux does: a whole window beyond, so no octet of the old incarnation's
            // sequence space falls in the new one's first window.
            iss = floor + 65_536u32;
        }
        let ts_offset = self.rng.next_u64() as u32;
        let h = self.tcp.alloc_handle();
        // The listener's options are read when the TCB is made (as in `tcp_connect_with`).
        let config = listener_options.apply(&self.config.tcp);
        let tcb = {
            let mut ctx = Ctx {
                now,
                config: &config,
                out: &mut self.tcp.spare_out,
                events: &mut self.tcp.spare_events,
                limiter: &mut self.tcp.limiter,
                stats: &mut self.tcp.stats,
                frames: &mut self.frames,
            };
            Tcb::accept_syn(
                &mut ctx,
                local,
                remote,
                iss,
                mtu,
                ts_offset,
                &PeerSyn::of(seg),
                ip_options_len,
            )
        };
        self.tcp.conns.insert(
            h,
            Entry {
                tcb,
                owner: Owner::Listener(l),
                return_route,
                reopened_from: reopened_from.map(Box::new),
            },
        );
        self.tcp.by_tuple.insert((local, remote), h);
        self.tcp.last_hit = None;
        if let Some(listener) = self.tcp.listeners.get_mut(&l) {
            listener.syn_queue.push_back(h);
        }
        self.tcp_after(now, h, Some(Owner::Listener(l)));
        None
    }

    /// Forgets a half-open connection (evicted from a SYN queue, or failed in SYN-RECEIVED):
    /// one reopened from TIME-WAIT gives its place back to the old incarnation, in
    /// TIME-WAIT again [RFC 9293 § 3.6.1 MAY-2 (2)]; any other is removed.
    fn tcp_forget_half_open(&mut self, h: TcpHandle) {
        let old = self
            .tcp
            .conns
            .get_mut(&h)
            .and_then(|e| e.reopened_from.take());
        match (old, self.tcp.conns.get_mut(&h)) {
            (Some(old), Some(e)) => {
                if let Owner::Listener(l) = e.owner {
                    if let Some(l) = self.tcp.listeners.get_mut(&l) {
                        l.syn_queue.retain(|&x| x != h);
                        l.accept_queue.retain(|&x| x != h);
                    }
                }
                e.tcb = *old;
                e.owner = Owner::Detached;
                e.return_route = None;
                self.tcp.stats.time_wait_restored += 1;
            }
            _ => self.tcp.remove(h),
        }
    }

    /// Sends what a connection (owned by `owner`, if it still exists) produced into the
    /// spare vectors and turns its events into the application's; keeps the emptied vectors
    /// for the next call. (They are taken while in use: a connection call made meanwhile
    /// fills fresh ones.)
    #[inline(always)]
    fn tcp_after(&mut self, now: Instant, h: TcpHandle, owner: Option<Owner>) {
        if self.tcp.spare_out.is_empty() {
            if single_readable(&self.tcp.spare_events, owner) {
                self.tcp.spare_events.clear();
                self.tcp_readable(h);
                return;
            }
            if self.tcp.spare_events.is_empty() {
                return;
            }
        }
        self.tcp_after_general(now, h, owner);
    }

    /// [`tcp_after`](Stack::tcp_after) with frames to send or events other than one
    /// Readable.
    fn tcp_after_general(&mut self, now: Instant, h: TcpHandle, owner: Option<Owner>) {
        // Taken first: a connection call made while the frames go out (none is) would fill
        // fresh ones.
        let events = (!self.tcp.spare_events.is_empty())
            .then(|| core::mem::take(&mut self.tcp.spare_events));
        // The smallest MTU of an interface that refused a segment as too long.
        let mut too_big = None;
        if !self.tcp.spare_out.is_empty() {
            let mut out = core::mem::take(&mut self.tcp.spare_out);
            // The frames hold segments of the connection: from its local address to its
            // remote one.
            let conn = self
                .tcp
                .conns
                .get(&h)
                .map(|e| (e.return_route, *e.tcb.local.ip(), *e.tcb.remote.ip()));
            match conn {
                Some((None, local, remote)) => {
                    // Checked once for the batch: framing a segment from the cache changes
                    // none of what it depends on (see `tcp_emit`).
                    let mut cache = self.tcp_output_cache(now, local, remote);
                    for frame in out.drain(..) {
                        match cache.as_ref().filter(|c| c.fits(&frame)) {
                            Some(c) => self.tcp_emit_cached(c, frame),
                            None => {
                                cache = None;
                                let refused = self.tcp_emit(now, local, remote, frame);
                                too_big = min_mtu(too_big, refused);
                            }
                        }
                    }
                }
                Some((Some(via), local, _)) => {
                    for frame in out.drain(..) {
                        let refused = self.tcp_emit_routed(now, local, frame, &via);
                        too_big = min_mtu(too_big, refused);
                    }
                }
                None => {
                    for frame in out.drain(..) {
                        self.frames.give(frame);
                    }
                }
            }
            if self.tcp.spare_out.capacity() == 0 {
                self.tcp.spare_out = out;
            }
        }
        if let Some(mtu) = too_big {
            // Segments too long for the interface they leave by, with DF set: the path MTU
            // is at most that interface's [RFC 1122 § 3.3.3, MMS_S; RFC 9293 § 3.7.1,
            // Eff.snd.MSS], and what was refused goes again at the smaller size, as after
            // an ICMP fragmentation needed. The MSS only goes down, so this ends.
            with_tcb!(self, now, h, |tcb, ctx| tcb.lower_path_mtu(ctx, mtu));
        }
        if let Some(mut events) = events {
            if single_readable(&events, owner) {
                self.tcp_readable(h);
            } else if let Some(owner) = owner {
                self.tcp_deliver_events(h, owner, &mut events);
            }
            events.clear();
            if self.tcp.spare_events.capacity() == 0 {
                self.tcp.spare_events = events;
            }
        }
    }

    /// A user's connection became readable: one event says it as well as several in a row
    /// (a batch of segments).
    fn tcp_readable(&mut self, h: TcpHandle) {
        if self.events.back() != Some(&Event::TcpReadable(h)) {
            self.push_event(Event::TcpReadable(h))
        }
    }

    /// Turns a connection's events into the application's.
    #[inline(never)]
    fn tcp_deliver_events(&mut self, h: TcpHandle, owner: Owner, events: &mut Vec<ConnEvent>) {
        for ev in events.drain(..) {
            match (ev, owner) {
                (ConnEvent::Connected, Owner::User) => self.push_event(Event::TcpConnected(h)),
                (ConnEvent::Connected, Owner::Listener(l)) => {
                    // Established: an old incarnation kept in case this one failed is done.
                    if let Some(e) = self.tcp.conns.get_mut(&h) {
                        e.reopened_from = None;
                    }
                    if let Some(listener) = self.tcp.listeners.get_mut(&l) {
                        listener.syn_queue.retain(|&x| x != h);
                        listener.accept_queue.push_back(h);
                        self.push_event(Event::TcpIncoming(l));
                    }
                }
                (ConnEvent::Readable, Owner::User) => self.tcp_readable(h),
                (ConnEvent::Urgent, Owner::User) => self.push_event(Event::TcpUrgent(h)),
                (ConnEvent::Writable, Owner::User) => self.push_event(Event::TcpWritable(h)),
                (ConnEvent::Error(error), Owner::User) => {
                    self.push_event(Event::TcpError { handle: h, error })
                }
                (ConnEvent::SoftError(error), Owner::User) => {
                    self.push_event(Event::TcpNetworkError { handle: h, error })
                }
                (ConnEvent::Closed, Owner::User) => {
                    if let Some(e) = self.tcp.conns.get(&h) {
                        let key = (e.tcb.local, e.tcb.remote);
                        if self.tcp.by_tuple.get(&key) == Some(&h) {
                            self.tcp.by_tuple.remove(&key);
                            self.tcp.last_hit = None;
                        }
                    }
                    self.push_event(Event::TcpClosed(h));
                }
                (ConnEvent::Closed, _) => self.tcp_forget_half_open(h),
                _ => {}
            }
        }
    }

    /// Wraps a segment in IP (and Ethernet) in its own buffer and sends it.
    ///
    /// The route and next-hop MAC of the last segment sent are remembered (with the
    /// generations of the routing table, the ARP cache and the interfaces they were read at,
    /// and the binding's expiry): a segment to the same destination while all are current is
    /// framed and queued without a route or ARP lookup, exactly as the general path would.
    ///
    /// Returns the MTU of the interface if the IP layer refused the segment as too long for
    /// it (with DF set).
    fn tcp_emit(
        &mut self,
        now: Instant,
        local: Ipv4Addr,
        remote: Ipv4Addr,
        bytes: Vec<u8>,
    ) -> Option<u16> {
        if let Some(c) = self
            .tcp_output_cache(now, local, remote)
            .filter(|c| c.fits(&bytes))
        {
            self.tcp_emit_cached(&c, bytes);
            return None;
        }
        let generations = self.output_generations();
        let Ok(mut route) = self.route_output(remote, None) else {
            self.tcp.stats.segments_not_sent += 1;
            self.frames.give(bytes);
            return None;
        };
        if route.local {
            route.source = local;
        }
        // What the general path will find, remembered for the next segment: a unicast next
        // hop with a resolved binding.
        self.tcp.output_cache = self.interface(route.iface).and_then(|ifc| {
            if route.local || ifc.is_broadcast(route.next_hop) || route.next_hop.is_multicast() {
                return None;
            }
            let (mac, valid_until) = self.arp.lookup_until(now, route.iface, route.next_hop)?;
            let fields = self.tcp_ipv4_fields(local, route.destination, 0);
            Some(OutputCache {
                local,
                remote: route.destination,
                generations,
                iface: route.iface,
                headers: HeaderTemplate::new(mac, ifc.mac, &fields),
                mtu: ifc.mtu,
                valid_until,
            })
        });
        let id = self.next_ip_id();
        let fields = self.tcp_ipv4_fields(local, route.destination, id);
        let sent = self.ip_send_frame(now, &route, &fields, bytes, Origin::Stack(IpProtocol::TCP));
        self.tcp_refused(sent, route.iface)
    }

    /// Counts a segment the IP layer refused; the interface's MTU if it was too long for it.
    fn tcp_refused(&mut self, sent: Result<(), StackError>, iface: InterfaceId) -> Option<u16> {
        match sent {
            Ok(()) => None,
            Err(e) => {
                self.tcp.stats.segments_not_sent += 1;
                let mtu = self.interface(iface).map(|i| i.mtu);
                mtu.filter(|_| e == StackError::MessageTooLong)
            }
        }
    }

    /// The IPv4 header fields of a segment.
    fn tcp_ipv4_fields(&self, local: Ipv4Addr, remote: Ipv4Addr, id: u16) -> Ipv4Fields {
        Ipv4Fields {
            source: local,
            destination: remote,
            protocol: IpProtocol::TCP,
            ttl: self.config.ip.default_ttl,
            dont_fragment: self.config.tcp.path_mtu_discovery,
            identification: id,
        }
    }

    /// The generations of the routing table, the ARP cache and the interfaces.
    fn output_generations(&self) -> (u64, u64, u64) {
        (
            self.routes.generation(),
            self.arp.generation,
            self.interfaces_generation,
        )
    }

    /// The remembered route and next hop, if they are what the general path would find for
    /// a segment from `local` to `remote` now.
    fn tcp_output_cache(
        &self,
        now: Instant,
        local: Ipv4Addr,
        remote: Ipv4Addr,
    ) -> Option<OutputCache> {
        let generations = self.output_generations();
        self.tcp.output_cache.filter(|c| {
            c.remote == remote
                && c.local == local
                && c.generations == generations
                && now < c.valid_until
        })
    }

    /// Frames a segment with the remembered headers and queues it, exactly as the general
    /// path would.
    #[inline(always)]
    fn tcp_emit_cached(&mut self, c: &OutputCache, mut bytes: Vec<u8>) {
        let payload_len = bytes.len().saturating_sub(frame::HEADROOM);
        let id = self.next_ip_id();
        if let Some(h) = bytes
            .get_mut(..frame::HEADROOM)
            .and_then(|h| <&mut [u8; frame::HEADROOM]>::try_from(h).ok())
        {
            c.headers.write(h, id, payload_len);
        }
        if bytes.len() < frame::MIN_FRAME {
            bytes.resize(frame::MIN_FRAME, 0);
        }
        self.queue_frame(c.iface, bytes);
    }

    /// Sends a segment of a connection that keeps a return route: to the route's first hop,
    /// with the source route option [RFC 1122 § 4.2.3.8]. The general IP path: these are rare
    /// and the pseudo-header (already summed) names the final destination, the remote end
    /// [RFC 9293 § 3.1].
    ///
    /// Like [`tcp_emit`](Stack::tcp_emit), returns the MTU of the interface if the IP layer
    /// refused the segment as too long for it.
    fn tcp_emit_routed(
        &mut self,
        now: Instant,
        local: Ipv4Addr,
        frame: Vec<u8>,
        via: &ReturnRoute,
    ) -> Option<u16> {
        let mut too_big = None;
        if let Ok(mut route) = self.route_output(via.first_hop(), None) {
            if route.local {
                route.source = local;
            }
            let params = SendParams {
                source: local,
                protocol: IpProtocol::TCP,
                ttl: self.config.ip.default_ttl,
                dont_fragment: self.config.tcp.path_mtu_discovery,
                options: via.option(),
                origin: Origin::Stack(IpProtocol::TCP),
            };
            let segment = frame.get(frame::HEADROOM..).unwrap_or_default();
            let sent = self.ip_send(now, &route, params, segment);
            too_big = self.tcp_refused(sent, route.iface);
        } else {
            self.tcp.stats.segments_not_sent += 1;
        }
        self.frames.give(frame);
        too_big
    }

    /// An interface's MTU went down to `mtu`: the connections whose segments leave by it
    /// send no segment bigger than it allows from now on (what is in flight is resent at that
    /// size when it is due), as after an ICMP fragmentation needed, but without the resend.
    pub(crate) fn tcp_interface_mtu_lowered(&mut self, iface: InterfaceId, mtu: u16) {
        let handles: Vec<TcpHandle> = self
            .tcp
            .conns
            .iter()
            .filter(|(_, e)| {
                let first_hop = e.return_route.map_or(*e.tcb.remote.ip(), |r| r.first_hop());
                self.route_output(first_hop, None)
                    .is_ok_and(|r| r.iface == iface)
            })
            .map(|(h, _)| *h)
            .collect();
        for h in handles {
            if let Some(e) = self.tcp.conns.get_mut(&h) {
                e.tcb.clamp_path_mtu(mtu);
            }
        }
    }

    /// An ICMP error about a segment we sent [RFC 1122 § 4.2.3.9, RFC 5927, RFC 1191].
    pub(crate) fn tcp_icmp_error(
        &mut self,
        now: Instant,
        original: &Ipv4Header<'_>,
        transport: &[u8],
        error: NetworkError,
    ) {
        let field = |at: usize| {
            transport
                .get(at..at + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
        };
        let (Some(sport), Some(dport), Some(s)) = (
            field(0),
            field(2),
            transport
                .get(4..8)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        ) else {
            self.tcp.stats.icmp_ignored += 1;
            return;
        };
        let local = SocketAddrV4::new(original.source, sport);
        let remote = SocketAddrV4::new(original.destination, dport);
        let Some(&h) = self.tcp.by_tuple.get(&(local, remote)) else {
            self.tcp.stats.icmp_ignored += 1;
            return;
        };
        if !self
            .tcp
            .conns
            .get(&h)
            .is_some_and(|e| e.tcb.icmp_seq_ok(Seq(s)))
        {
            self.tcp.stats.icmp_ignored += 1;
            return;
        }
        match error.kind {
            NetworkErrorKind::FragmentationNeeded { next_hop_mtu } => {
                if !self.config.tcp.path_mtu_discovery {
                    return;
                }
                let current = self.tcp.conns.get(&h).map_or(576, |e| e.tcb.smss() + 40) as u16;
                // RFC 1191 § 5: without a next-hop MTU, the next plateau below.
                let mtu = if next_hop_mtu >= 68 {
                    next_hop_mtu
                } else {
                    [1492u16, 1006, 508, 296, 68]
                        .into_iter()
                        .find(|&p| p < current)
                        .unwrap_or(68)
                };
                with_tcb!(self, now, h, |tcb, ctx| tcb.lower_path_mtu(ctx, mtu));
            }
            NetworkErrorKind::ProtocolUnreachable | NetworkErrorKind::PortUnreachable => {
                with_tcb!(self, now, h, |tcb, ctx| tcb
                    .fail(ctx, TcpError::Unreachable(error)));
            }
            NetworkErrorKind::SourceQuench => self.tcp.stats.icmp_ignored += 1, // RFC 6633
            _ => {
                with_tcb!(self, now, h, |tcb, ctx| {
                    tcb.soft_error = Some(error);
                    ctx.events.push(ConnEvent::SoftError(error));
                });
            }
        }
        self.drain_loopback(now);
    }

    /// Sends the delayed ACKs that fell due while handling input (see
    /// [`TcpTable::acks_due`]). Called when the driver polls for frames or timeouts.
    pub(crate) fn tcp_send_due_acks(&mut self) {
        let mut due = core::mem::take(&mut self.tcp.acks_due);
        for &(h, now) in &due {
            with_tcb!(self, now, h, |tcb, ctx| tcb.send_due_ack(ctx));
            self.drain_loopback(now);
        }
        due.clear();
        if self.tcp.acks_due.is_empty() {
            // Keep the allocation for the next batch.
            self.tcp.acks_due = due;
        }
    }

    /// The earliest TCP timer.
    pub(crate) fn tcp_next_deadline(&self) -> Option<Instant> {
        self.tcp
            .conns
            .values()
            .filter_map(|e| e.tcb.next_deadline())
            .min()
    }

    /// Runs the TCP timers due at `now`.
    pub(crate) fn tcp_timeout(&mut self, now: Instant) {
        let due: Vec<TcpHandle> = self
            .tcp
            .conns
            .iter()
            .filter(|(_, e)| e.tcb.next_deadline().is_some_and(|d| d <= now))
            .map(|(h, _)| *h)
            .collect();
        for h in due {
            with_tcb!(self, now, h, |tcb, ctx| tcb.on_timer(ctx));
        }
    }
}

/// The smaller of two MTUs, either maybe absent.
fn min_mtu(a: Option<u16>, b: Option<u16>) -> Option<u16> {
    a.into_iter().chain(b).min()
}
