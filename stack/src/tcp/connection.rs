//! The transmission control block of one connection and its state machine: segment arrival
//! processing as in RFC 9293 § 3.10.7 (acceptability, RST, SYN, ACK, text and FIN checks, in
//! that order), the output routine (SYN, data with Nagle and sender SWS avoidance, FIN,
//! acknowledgments with delayed ACK and receiver SWS avoidance, window probes), the timers
//! (retransmission, persist, delayed ACK, keep-alive, TIME-WAIT, user timeout) and the user
//! calls (send, receive, shutdown, close, abort).
//!
//! A `Tcb` never sees the stack: it appends the segments it wants sent and the events it
//! raises to a [`Ctx`], and the stack wraps them in IP and hands them to the application.

use core::net::SocketAddrV4;

use wirecheck_codec::tcp::TcpFlags;
use wirecheck_codec::time::{Duration, Instant};

use super::buffer::{ReceiveBuffer, SendBuffer};
use super::congestion::{Congestion, RetransmitMarks, Scoreboard, DUP_THRESH};
use super::rtt::{RttEstimator, MAX_RTO};
use super::segment::{Segment, SegmentFields, SendOptions, TimestampedTemplate};
use super::seq::Seq;
use super::{KeepAlive, TcpConfig, TcpError, TcpState, TcpStats};
use crate::ip::frame::FramePool;
use crate::rng::Rng;
use crate::stack::NetworkError;

/// The MSS assumed when the peer sends none [RFC 9293 § 3.7.1, MUST-15].
pub(crate) const DEFAULT_MSS: usize = 536;

/// A tail loss probe sent [RFC 8985 § 7.3]: its octets `start..sent_end`, and whether they
/// had been sent before (TLP.is_retrans). `end` is TLP.end_seq, SND.MAX after the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TailLossProbe {
    start: Seq,
    /// One past the probe's last octet.
    sent_end: Seq,
    end: Seq,
    retransmitted: bool,
}

/// WCDelAckT of RFC 8985 § 7.2: the longest a receiver may delay an ACK, added to the probe
/// timeout when a single segment is in flight (the ACK for it may be delayed).
const WORST_CASE_DELAYED_ACK: Duration = Duration::from_millis(200);

/// The shortest probe timeout. RFC 8985 sets none, but with an SRTT near zero (a loopback or
/// an in-memory link) probes would go at once, before any ACK could come back; 10 ms is this
/// stack's choice (Linux adds 2 ms to 2·SRTT instead).
const MIN_PROBE_TIMEOUT: Duration = Duration::from_millis(10);

/// The smallest effective send MSS we use, however small the peer's MSS or path MTU says.
const MIN_MSS: usize = 64;

/// In-order ACKs sent at once, every second full-sized segment, at the start of a connection,
/// after out-of-order data and after a small batch, before ACKs are held to the end of a
/// batch of received segments (one ACK per batch). A sender in slow start grows its window
/// per ACK [RFC 5681 § 3.1]: quick ACKs keep its ramp-up (and its recovery after a loss) as
/// fast as with an ACK every second segment, as Linux's quick-ACK mode does.
const QUICK_ACKS: u32 = 16;

/// A batch of fewer full segments than this means a small flight: quick ACKs again (see
/// `Tcb::count_batch`).
const SMALL_BATCH: usize = 32;

/// TS.Recent is invalid after 24 days of idleness [RFC 7323 § 5.5].
/// The shortest time an active open retransmits its SYN before the retry count may end it
/// [RFC 9293 § 3.8.3 MUST-23: "at least 3 minutes"].
const SYN_SENT_MIN_DURATION: Duration = Duration::from_secs(180);
const PAWS_IDLE: Duration = Duration::from_secs(24 * 24 * 3600);

/// Flags that combine `ACK` with others.
fn flags(list: &[TcpFlags]) -> TcpFlags {
    TcpFlags(list.iter().fold(0, |a, f| a | f.0))
}

/// What a connection tells the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnEvent {
    /// The three-way handshake completed.
    Connected,
    /// New in-order data (or the end of the stream) can be read.
    Readable,
    /// The peer's urgent pointer moved ahead of the data read [RFC 9293 § 3.10.7.4 sixth].
    Urgent,
    /// Send buffer space became free after a short write.
    Writable,
    /// The connection failed.
    Error(TcpError),
    /// A soft ICMP error; the connection goes on.
    SoftError(NetworkError),
    /// The connection reached CLOSED.
    Closed,
}

/// RFC 5961 § 7: a stack-wide limit on challenge ACKs per second. The budget of each second
/// is drawn afresh, uniformly from `⌈limit / 2⌉ ..= ⌈limit / 2⌉ + limit − 1` (about `limit`;
/// a limit of 1 still allows one), as Linux does since CVE-2016-5696: with a fixed, shared
/// budget an off-path attacker can count the challenge ACKs left in a second and learn
/// whether its guessed segment hit a connection's window.
#[derive(Debug, Clone)]
pub(crate) struct ChallengeAckLimiter {
    window_start: Option<Instant>,
    sent: u32,
    budget: u32,
    rng: Rng,
}

impl ChallengeAckLimiter {
    pub(crate) fn new(seed: u64) -> ChallengeAckLimiter {
        ChallengeAckLimiter {
            window_start: None,
            sent: 0,
            budget: 0,
            rng: Rng::new(seed),
        }
    }

    fn allow(&mut self, now: Instant, limit: u32) -> bool {
        let new_window = self
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= Duration::from_secs(1));
        if new_window {
            self.window_start = Some(now);
            self.sent = 0;
            let spread = if limit == 0 {
                0
            } else {
                self.rng.below_or_equal(u64::from(limit) - 1) as u32
            };
            self.budget = limit.div_ceil(2).saturating_add(spread);
        }
        if self.sent < self.budget {
            self.sent += 1;
            true
        } else {
            false
        }
    }
}

/// What a connection needs from its surroundings while it runs.
pub(crate) struct Ctx<'a> {
    pub(crate) now: Instant,
    pub(crate) config: &'a TcpConfig,
    /// Frames to send, each holding a segment of this connection (from its local address to
    /// its remote one) after the headroom.
    pub(crate) out: &'a mut Vec<Vec<u8>>,
    pub(crate) events: &'a mut Vec<ConnEvent>,
    pub(crate) limiter: &'a mut ChallengeAckLimiter,
    pub(crate) stats: &'a mut TcpStats,
    pub(crate) frames: &'a mut FramePool,
}

/// The options a passive open learned from the SYN.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerSyn {
    pub(crate) seq: Seq,
    pub(crate) window: u16,
    pub(crate) mss: Option<u16>,
    pub(crate) window_scale: Option<u8>,
    pub(crate) sack_permitted: bool,
    pub(crate) timestamps: Option<(u32, u32)>,
}

impl PeerSyn {
    pub(crate) fn of(seg: &Segment<'_>) -> PeerSyn {
        PeerSyn {
            seq: seg.seq,
            window: seg.window,
            mss: seg.mss,
            window_scale: seg.window_scale,
            sack_permitted: seg.sack_permitted,
            timestamps: seg.timestamps,
        }
    }
}

/// A transmission control block [RFC 9293 § 3.3.1].
#[derive(Debug, Clone)]
pub(crate) struct Tcb {
    pub(crate) state: TcpState,
    pub(crate) local: SocketAddrV4,
    pub(crate) remote: SocketAddrV4,
    /// The header of its segments that carry Timestamps alone, as far as it is fixed.
    template: TimestampedTemplate,
    // Send sequence space.
    iss: Seq,
    snd_una: Seq,
    snd_nxt: Seq,
    /// The highest sequence number sent (SND.NXT before a go-back-N retransmission).
    snd_max: Seq,
    snd_wnd: usize,
    max_snd_wnd: usize,
    snd_wl1: Seq,
    snd_wl2: Seq,
    snd_shift: u8,
    send: SendBuffer,
    /// Sequence number of the first byte of `send`.
    send_seq: Seq,
    fin_queued: bool,
    fin_acked: bool,
    // Receive sequence space.
    irs: Seq,
    rcv_nxt: Seq,
    /// The right edge of the window we advertised (RCV.NXT + RCV.WND when we last sent).
    rcv_adv: Seq,
    rcv_shift: u8,
    recv: ReceiveBuffer,
    /// Where the peer's FIN sits, when it arrived ahead of missing data.
    fin_at: Option<Seq>,
    pub(crate) fin_received: bool,
    // Options.
    /// The MSS we announced (our interface MTU − 40).
    mss_local: usize,
    peer_mss: usize,
    /// The path MTU − 40, lowered by ICMP fragmentation needed [RFC 1191].
    pmtu_mss: usize,
    /// Set when fragmentation needed made the dropped data go again: SND.UNA then. Until an
    /// ACK moves SND.UNA past it, one segment at a time is resent, the slow start RFC 1191
    /// § 6.4 asks for (cwnd itself is left alone).
    pmtu_resend_from: Option<Seq>,
    /// Octets of IP options every segment carries (a return source route, padded), taken
    /// off the send MSS [RFC 9293 § 3.7.1].
    ip_options_len: usize,
    window_scaling: bool,
    timestamps: bool,
    ts_recent: u32,
    ts_recent_at: Instant,
    ts_offset: u32,
    last_ack_sent: Seq,
    sack: bool,
    /// Octets that arrived again, to report in a D-SACK block in the next ACK [RFC 2883].
    dsack: Option<(Seq, Seq)>,
    /// The application closed the connection and will read no more: new data is answered
    /// with a RST [RFC 9293 § 3.6.1 SHLD-3].
    receive_closed: bool,
    pub(crate) nodelay: bool,
    // Timing.
    rtt: RttEstimator,
    rtt_timing: Option<(Seq, Instant)>,
    retransmit_at: Option<Instant>,
    persist_at: Option<Instant>,
    persist_backoff: u32,
    probe_unanswered_since: Option<Instant>,
    /// End of the octet a zero-window probe carried beyond SND.MAX, while it may still be
    /// acknowledged (the receiver may take it if its window opened meanwhile).
    window_probe_end: Option<Seq>,
    delayed_ack_at: Option<Instant>,
    /// The stack has listed this connection to send its due delayed ACK at the next poll.
    pub(crate) ack_listed: bool,
    /// ACKs still to send at once, every second full-sized segment, before ACKs wait for
    /// the end of a batch (see [`QUICK_ACKS`]).
    quick_acks: u32,
    /// The last ACK was sent with no quick ACKs left: the next one ends a batch.
    batch_acking: bool,
    ack_now: bool,
    /// SYN-RECEIVED was entered from SYN-SENT (a simultaneous open), not from a listener.
    simultaneous_open: bool,
    /// When the last rate-limited reply to an unacceptable segment went (see
    /// [`Tcb::ack_unacceptable`]).
    invalid_ack_at: Option<Instant>,
    unacked_bytes: usize,
    last_received: Instant,
    keepalive_probes: u32,
    /// When the latest unanswered keep-alive probe went: the next is due an interval later.
    keepalive_probed_at: Option<Instant>,
    /// Keep-alive timing, if this connection probes an idle peer: the stack's
    /// [`TcpConfig::keepalive`] when it opened, or what [`Stack::tcp_set_keepalive`] set.
    keepalive: Option<KeepAlive>,
    time_wait_at: Option<Instant>,
    unacked_since: Option<Instant>,
    pub(crate) user_timeout: Duration,
    // Congestion.
    cc: Congestion,
    scoreboard: Scoreboard,
    retransmits: RetransmitMarks,
    /// When a tail loss probe goes, if no ACK comes first [RFC 8985 § 7.2].
    tlp_at: Option<Instant>,
    /// The probe sent, while its episode lasts [RFC 8985 § 7].
    tlp: Option<TailLossProbe>,
    // Application.
    want_writable: bool,
    // Urgent data [RFC 9293 § 3.8.5, RFC 6093]: the sequence number just past the last
    // urgent octet, sent (SND.UP) and received (RCV.UP).
    snd_up: Option<Seq>,
    rcv_up: Option<Seq>,
    pub(crate) soft_error: Option<NetworkError>,
    pub(crate) error: Option<TcpError>,
}

/// The window scale that lets `buffer` octets be advertised [RFC 7323 § 2.3].
fn scale_for(buffer: usize) -> u8 {
    let mut shift = 0u8;
    while shift < 14 && (buffer >> shift) > 65_535 {
        shift += 1;
    }
    shift
}

impl Tcb {
    fn new(
        now: Instant,
        config: &TcpConfig,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        iss: Seq,
        mtu: u16,
        ts_offset: u32,
    ) -> Tcb {
        let mss_local = usize::from(mtu).saturating_sub(40).max(MIN_MSS);
        Tcb {
            state: TcpState::Closed,
            local,
            remote,
            template: TimestampedTemplate::new(local, remote),
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: Seq(0),
            snd_wl2: iss,
            snd_shift: 0,
            send: SendBuffer::new(config.send_buffer),
            send_seq: iss + 1u32,
            fin_queued: false,
            fin_acked: false,
            irs: Seq(0),
            rcv_nxt: Seq(0),
            rcv_adv: Seq(0),
            rcv_shift: 0,
            recv: ReceiveBuffer::new(config.receive_buffer.max(1)),
            fin_at: None,
            fin_received: false,
            mss_local,
            peer_mss: DEFAULT_MSS,
            pmtu_mss: mss_local,
            pmtu_resend_from: None,
            ip_options_len: 0,
            window_scaling: false,
            timestamps: false,
            ts_recent: 0,
            dsack: None,
            receive_closed: false,
            ts_recent_at: now,
            ts_offset,
            last_ack_sent: Seq(0),
            sack: false,
            nodelay: !config.nagle,
            rtt: RttEstimator::new(config.initial_rto, config.min_rto),
            rtt_timing: None,
            retransmit_at: None,
            persist_at: None,
            persist_backoff: 0,
            probe_unanswered_since: None,
            window_probe_end: None,
            delayed_ack_at: None,
            ack_listed: false,
            quick_acks: QUICK_ACKS,
            batch_acking: false,
            ack_now: false,
            simultaneous_open: false,
            invalid_ack_at: None,
            unacked_bytes: 0,
            last_received: now,
            keepalive_probes: 0,
            keepalive_probed_at: None,
            keepalive: config.keepalive,
            time_wait_at: None,
            unacked_since: None,
            user_timeout: config.user_timeout,
            cc: Congestion::new(DEFAULT_MSS, config.initial_window_10, iss),
            scoreboard: Scoreboard::default(),
            retransmits: RetransmitMarks::default(),
            tlp_at: None,
            tlp: None,
            want_writable: false,
            snd_up: None,
            rcv_up: None,
            soft_error: None,
            error: None,
        }
    }

    /// An active open: SYN-SENT, with the SYN queued [RFC 9293 § 3.10.1].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn connect(
        ctx: &mut Ctx<'_>,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        iss: Seq,
        mtu: u16,
        ts_offset: u32,
    ) -> Tcb {
        let mut t = Tcb::new(ctx.now, ctx.config, local, remote, iss, mtu, ts_offset);
        t.state = TcpState::SynSent;
        t.unacked_since = Some(ctx.now);
        t.output(ctx);
        t
    }

    /// A passive open from a listener: SYN-RECEIVED, SYN-ACK sent [RFC 9293 § 3.10.7.2].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn accept_syn(
        ctx: &mut Ctx<'_>,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        iss: Seq,
        mtu: u16,
        ts_offset: u32,
        syn: &PeerSyn,
        ip_options_len: usize,
    ) -> Tcb {
        let mut t = Tcb::new(ctx.now, ctx.config, local, remote, iss, mtu, ts_offset);
        t.ip_options_len = ip_options_len;
        t.state = TcpState::SynReceived;
        t.learn_syn(ctx, syn);
        t.snd_wnd = usize::from(syn.window);
        t.max_snd_wnd = t.snd_wnd;
        t.snd_wl1 = syn.seq;
        t.unacked_since = Some(ctx.now);
        t.output(ctx);
        t
    }

    /// Records what a SYN tells: IRS, MSS, and which options both sides use.
    fn learn_syn(&mut self, ctx: &Ctx<'_>, syn: &PeerSyn) {
        self.irs = syn.seq;
        self.rcv_nxt = syn.seq + 1u32;
        self.rcv_adv = self.rcv_nxt;
        self.peer_mss = syn.mss.map_or(DEFAULT_MSS, usize::from).max(MIN_MSS);
        if let (true, Some(shift)) = (ctx.config.window_scaling, syn.window_scale) {
            self.window_scaling = true;
            // RFC 7323 § 2.3: a shift over 14 is used as 14.
            self.snd_shift = shift.min(14);
            self.rcv_shift = scale_for(self.recv.capacity());
        }
        if let (true, Some((value, _))) = (ctx.config.timestamps, syn.timestamps) {
            self.timestamps = true;
            self.ts_recent = value;
            self.ts_recent_at = ctx.now;
        }
        self.sack = ctx.config.sack && syn.sack_permitted;
        self.cc = Congestion::new(self.smss(), ctx.config.initial_window_10, self.iss);
    }

    /// The effective send MSS: the peer's MSS and the path's, less the TCP and IP options
    /// every segment carries [RFC 9293 § 3.7.1, RFC 6691].
    pub(crate) fn smss(&self) -> usize {
        let base = self.peer_mss.min(self.pmtu_mss);
        base.saturating_sub(if self.timestamps { 12 } else { 0 })
            .saturating_sub(self.ip_options_len)
            .max(MIN_MSS)
    }

    /// The MSS of segments we expect to receive (for delayed ACK and SWS thresholds).
    fn rmss(&self) -> usize {
        self.mss_local
            .saturating_sub(if self.timestamps { 12 } else { 0 })
            .max(MIN_MSS)
    }

    fn synchronized(&self) -> bool {
        !matches!(
            self.state,
            TcpState::Closed | TcpState::Listen | TcpState::SynSent | TcpState::SynReceived
        )
    }

    fn ts_now(&self, now: Instant) -> u32 {
        ((now.as_micros() / 1000) as u32).wrapping_add(self.ts_offset)
    }

    /// FIN's sequence number once queued.
    fn fin_seq(&self) -> Seq {
        self.send_seq + self.send.len()
    }

    /// Notes octets `[start, end)` that arrived again, for a D-SACK block in the next ACK
    /// [RFC 2883 § 4]: on SACK connections only, the latest duplicate (each is reported
    /// once).
    fn note_duplicate(&mut self, start: Seq, end: Seq) {
        if self.sack && start < end {
            // Acknowledged at once, so that the block describes the latest segment (RFC
            // 2883 § 4, rule 1), as Linux does with a duplicate.
            self.dsack = Some((start, end));
            self.ack_now = true;
        }
    }

    /// Notes the data of an unacceptable segment that lies below RCV.NXT (an old duplicate).
    fn note_old_octets(&mut self, seg: &Segment<'_>) {
        let start = seg.seq + u32::from(seg.has(TcpFlags::SYN));
        let end = start + seg.payload.len();
        if start < self.rcv_nxt {
            self.note_duplicate(start, end.min(self.rcv_nxt));
        }
    }

    /// Bytes sent and not acknowledged (FlightSize, before any SACK accounting).
    fn flight(&self) -> usize {
        self.snd_max - self.snd_una
    }

    // ---------------------------------------------------------------- events and closing

    fn enter_closed(&mut self, ctx: &mut Ctx<'_>) {
        if self.state != TcpState::Closed {
            self.state = TcpState::Closed;
            self.retransmit_at = None;
            self.persist_at = None;
            self.delayed_ack_at = None;
            self.time_wait_at = None;
            self.tlp_at = None;
            self.release_closed_buffers();
            ctx.events.push(ConnEvent::Closed);
        }
    }

    /// Gives back the buffers' memory where they hold nothing: a connection in TIME-WAIT or
    /// CLOSED sends and receives no more data.
    fn release_idle_buffers(&mut self) {
        self.send.release_if_empty();
        self.recv.release_if_empty();
    }

    /// CLOSED: what was queued for sending never will be; what was received stays until read.
    fn release_closed_buffers(&mut self) {
        self.send = SendBuffer::new(self.send.capacity());
        self.recv.release_if_empty();
    }

    /// Bytes of buffer memory allocated.
    #[cfg(test)]
    pub(crate) fn buffer_allocation(&self) -> usize {
        self.send.allocated() + self.recv.allocated()
    }

    /// When TIME-WAIT ends, if the connection is in it.
    pub(crate) fn time_wait_until(&self) -> Option<Instant> {
        self.time_wait_at
            .filter(|_| self.state == TcpState::TimeWait)
    }

    /// The connection failed: report and close, without a reset (the peer is gone, or sent
    /// one).
    pub(crate) fn fail(&mut self, ctx: &mut Ctx<'_>, error: TcpError) {
        if self.state == TcpState::Closed {
            return;
        }
        self.error = Some(error);
        ctx.events.push(ConnEvent::Error(error));
        self.enter_closed(ctx);
    }

    fn enter_time_wait(&mut self, ctx: &mut Ctx<'_>) {
        self.state = TcpState::TimeWait;
        self.retransmit_at = None;
        self.persist_at = None;
        self.time_wait_at = Some(ctx.now + Duration::from_micros(2 * ctx.config.msl.as_micros()));
        self.release_idle_buffers();
    }

    /// Whether `seg`, a SYN without ACK or RST arriving in TIME-WAIT, may open a new
    /// incarnation of this connection at once [RFC 6191 § 2; RFC 9293 § 3.6.1 MAY-2, SHLD-4]:
    ///
    /// - if this incarnation used timestamps and the new one would too (`new_timestamps`: the
    ///   SYN carries the option and the listener offers it), when the SYN's TSval is above
    ///   TS.Recent, or equal to it with a sequence number beyond RCV.NXT;
    /// - otherwise, when its sequence number is beyond RCV.NXT.
    ///
    /// RFC 6191 asks for a sequence number beyond the last one seen (the peer's FIN, RCV.NXT
    /// − 1); RCV.NXT itself is excluded here, as Linux and FreeBSD do. A SYN with FIN, ACK or
    /// RST is no new connection request. Anything else stays with TIME-WAIT's processing (an
    /// ACK, RFC 5961 § 4).
    pub(crate) fn syn_may_reopen(&self, seg: &Segment<'_>, new_timestamps: bool) -> bool {
        if self.state != TcpState::TimeWait
            || !seg.has(TcpFlags::SYN)
            || seg.has(TcpFlags::ACK)
            || seg.has(TcpFlags::RST)
            || seg.has(TcpFlags::FIN)
        {
            return false;
        }
        let seq_beyond = seg.seq > self.rcv_nxt;
        match seg.timestamps {
            Some((value, _)) if self.timestamps && new_timestamps => {
                let ahead = value.wrapping_sub(self.ts_recent) as i32;
                ahead > 0 || (ahead == 0 && seq_beyond)
            }
            _ => seq_beyond,
        }
    }

    /// The highest sequence number this incarnation used, plus one (SND.MAX): a new
    /// incarnation reopened from TIME-WAIT starts above it [RFC 9293 § 3.6.1 (1)].
    pub(crate) fn snd_max(&self) -> Seq {
        self.snd_max
    }

    /// Ends TIME-WAIT early, for a new incarnation ([`syn_may_reopen`](Self::syn_may_reopen)).
    pub(crate) fn end_time_wait(&mut self, ctx: &mut Ctx<'_>) {
        if self.state == TcpState::TimeWait {
            self.enter_closed(ctx);
        }
    }

    // ---------------------------------------------------------------- user calls

    /// SEND: queues what fits [RFC 9293 § 3.10.2]. With `urgent`, the octets queued are
    /// urgent data: SND.UP moves to just past the last of them and segments carry URG with
    /// the urgent pointer until it is acknowledged [RFC 9293 § 3.8.5, RFC 6093 § 4].
    pub(crate) fn send_data(&mut self, ctx: &mut Ctx<'_>, data: &[u8], urgent: bool) -> usize {
        let n = self.send.push(data);
        if urgent && n > 0 {
            self.snd_up = Some(self.send_seq + self.send.len());
        }
        if n < data.len() {
            self.want_writable = true;
        }
        self.output(ctx);
        n
    }

    /// RECEIVE: copies in-order data out and, if the window opened enough, sends a window
    /// update [RFC 9293 § 3.8.6.2.2].
    pub(crate) fn recv_data(&mut self, ctx: &mut Ctx<'_>, out: &mut [u8]) -> usize {
        let n = self.recv.read(out);
        if matches!(self.state, TcpState::TimeWait | TcpState::Closed) {
            self.release_idle_buffers();
        } else if n > 0 && self.synchronized() && self.window_update_due() {
            self.ack_now = true;
            self.output(ctx);
        }
        n
    }

    /// The sequence number of the next octet the application will read.
    fn read_seq(&self) -> Seq {
        let unread = self.recv.len() as u32 + self.fin_received as u32;
        Seq(self.rcv_nxt.0.wrapping_sub(unread))
    }

    /// Octets from the next one to read to the end of the urgent data, when the peer's urgent
    /// pointer is ahead of what was read [RFC 9293 § 3.8.5, RFC 6093 § 4].
    pub(crate) fn urgent_mark(&self) -> Option<usize> {
        let up = self.rcv_up?;
        let read = self.read_seq();
        (up > read).then(|| up - read)
    }

    pub(crate) fn readable(&self) -> usize {
        self.recv.len()
    }

    pub(crate) fn send_free(&self) -> usize {
        self.send.free()
    }

    /// Whether the sending side is still open (no FIN queued).
    pub(crate) fn can_send(&self) -> bool {
        !self.fin_queued
            && matches!(
                self.state,
                TcpState::SynSent
                    | TcpState::SynReceived
                    | TcpState::Established
                    | TcpState::CloseWait
            )
    }

    /// CLOSE of the sending side: FIN after the queued data [RFC 9293 § 3.10.4].
    pub(crate) fn shutdown(&mut self, ctx: &mut Ctx<'_>) {
        match self.state {
            TcpState::SynSent if self.send.len() > 0 => self.fin_queued = true,
            TcpState::SynSent | TcpState::Listen => self.enter_closed(ctx),
            TcpState::SynReceived | TcpState::Established | TcpState::CloseWait => {
                self.fin_queued = true;
                self.output(ctx);
            }
            _ => {}
        }
    }

    /// The application closed the connection: it reads no more [RFC 9293 § 3.6.1, a
    /// half-duplex close, MAY-1].
    pub(crate) fn close_receive(&mut self) {
        self.receive_closed = true;
    }

    /// ABORT: a reset if synchronized, then CLOSED [RFC 9293 § 3.10.5].
    pub(crate) fn abort(&mut self, ctx: &mut Ctx<'_>) {
        if matches!(
            self.state,
            TcpState::SynReceived
                | TcpState::Established
                | TcpState::FinWait1
                | TcpState::FinWait2
                | TcpState::CloseWait
        ) {
            // Where the peer takes it: as an ACK without data goes, once synchronized
            // (a RST beyond a shut or shrunk window is dropped unseen [RFC 5961 § 3.2]).
            let seq = if self.state == TcpState::SynReceived {
                self.snd_nxt.max(self.snd_max)
            } else {
                self.bare_ack_seq()
            };
            self.emit(ctx, seq, TcpFlags::RST, 0..0);
            ctx.stats.resets_sent += 1;
        }
        self.enter_closed(ctx);
    }

    // ---------------------------------------------------------------- segment arrival

    /// Segment arrival in any state but LISTEN [RFC 9293 § 3.10.7.3, § 3.10.7.4].
    pub(crate) fn input(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        self.last_received = ctx.now;
        self.keepalive_probes = 0;
        self.keepalive_probed_at = None;
        if self.state == TcpState::Established && self.input_predicted(ctx, seg) {
            return;
        }
        match self.state {
            TcpState::Closed | TcpState::Listen => return,
            TcpState::SynSent => self.input_syn_sent(ctx, seg),
            _ => self.input_synchronized(ctx, seg),
        }
        if self.state != TcpState::Closed {
            self.output(ctx);
        }
    }

    /// Header prediction [Van Jacobson's fast path; RFC 9293 § 3.10.7.4 reduced to the case
    /// at hand]: on an ESTABLISHED connection, the next in-order data segment that
    /// acknowledges nothing new, with only ACK (and PSH) set, no SACK blocks, an acceptable
    /// timestamp and room in the window, while nothing is out of order, no FIN waits, no
    /// zero-window probe is outstanding, no loss recovery is under way, and neither data nor
    /// a FIN waits to be sent. Every check of the
    /// general path then has a known outcome: acceptable, nothing to trim, no RST, SYN or
    /// URG, an ACK of SND.UNA that is neither new nor a duplicate (it carries data), no state
    /// change, no FIN; what is left is done here, in the general path's order, and
    /// [`output`](Tcb::output) could only send an ACK that is due. False (having changed
    /// nothing) for any other segment.
    fn input_predicted(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) -> bool {
        let data = seg.payload;
        if seg.flags.0 & !TcpFlags::PSH.0 != TcpFlags::ACK.0
            || seg.seq != self.rcv_nxt
            || seg.ack != self.snd_una
            || data.is_empty()
            || data.len() > self.rcv_adv - self.rcv_nxt
            || seg.sack_len != 0
            || self.fin_at.is_some()
            || self.window_probe_end.is_some()
            || self.recv.has_out_of_order()
            || self.send_seq + self.send.len() != self.snd_nxt
            || self.snd_nxt != self.snd_max
            || self.fin_queued
            || self.cc.recovery.is_some()
            || self.persist_at.is_some()
        {
            return false;
        }
        // PAWS [RFC 7323 § 5.3] passes, and TS.Recent [§ 4.3] follows. (A segment without
        // the option takes the general path, which drops it.)
        if self.timestamps && seg.timestamps.is_none() {
            return false;
        }
        if let (true, Some((tsval, _))) = (self.timestamps, seg.timestamps) {
            if (tsval.wrapping_sub(self.ts_recent) as i32) < 0 {
                return false;
            }
            if seg.seq <= self.last_ack_sent {
                self.ts_recent = tsval;
                self.ts_recent_at = ctx.now;
            }
        }
        // The ACK field: SND.UNA again, on a segment with data (not a duplicate ACK).
        self.probe_unanswered_since = None;
        let window = usize::from(seg.window) << self.snd_shift;
        self.update_send_window(ctx.now, seg.seq, seg.ack, window, false);
        self.receive_text(ctx, seg.seq, data);
        // What `output` would do with nothing to send and no persist timer: an ACK, if one
        // is due now. (A window that opened for queued data is no concern: none is queued.)
        if self.ack_now && self.state != TcpState::Closed {
            let seq = self.bare_ack_seq();
            self.emit(ctx, seq, TcpFlags::ACK, 0..0);
        }
        true
    }

    fn send_reset_for(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        let frame = ctx.frames.take_stale();
        ctx.out
            .push(SegmentFields::reset_for(self.local, self.remote, seg).build(frame, [&[], &[]]));
        ctx.stats.resets_sent += 1;
    }

    /// [RFC 9293 § 3.10.7.3] SYN-SENT.
    fn input_syn_sent(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        let has_ack = seg.has(TcpFlags::ACK);
        let ack_ok = has_ack && self.iss < seg.ack && seg.ack <= self.snd_max;
        if has_ack && !ack_ok {
            if !seg.has(TcpFlags::RST) {
                self.send_reset_for(ctx, seg);
            }
            return;
        }
        if seg.has(TcpFlags::RST) {
            // RFC 5961 § 3.2 / RFC 9293: only a RST acknowledging our SYN counts.
            if ack_ok {
                self.fail(ctx, TcpError::Refused);
            }
            return;
        }
        if !seg.has(TcpFlags::SYN) {
            return;
        }
        self.learn_syn(ctx, &PeerSyn::of(seg));
        if ack_ok {
            self.snd_una = seg.ack;
            self.snd_nxt = self.snd_nxt.max(seg.ack);
            if let Some((s, t)) = self.rtt_timing.take() {
                if seg.ack > s {
                    self.rtt.sample(ctx.now.saturating_duration_since(t));
                }
            }
            // The window of a SYN is never scaled [RFC 7323 § 2.2].
            self.snd_wnd = usize::from(seg.window);
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
            self.state = TcpState::Established;
            self.rtt.handshake_done();
            self.retransmit_at = None;
            self.unacked_since = None;
            self.ack_now = true;
            ctx.events.push(ConnEvent::Connected);
        } else {
            // Simultaneous open: SYN-ACK with our ISS [RFC 9293 § 3.5, figure 7].
            self.state = TcpState::SynReceived;
            self.simultaneous_open = true;
            self.snd_wnd = usize::from(seg.window);
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seg.seq;
            self.snd_nxt = self.iss;
            self.retransmit_at = None;
        }
    }

    /// The ACK that answers an unacceptable segment: one outside the receive window [RFC 9293
    /// § 3.10.7.4 first check], one PAWS rejects [RFC 7323 § 5.3], or one whose ACK field
    /// acknowledges something not yet sent or older than SND.UNA − MAX.SND.WND [RFC 9293
    /// § 3.10.7.4 fifth check; RFC 5961 § 5.2]. When the segment occupies no sequence space
    /// (a bare ACK, the stuff of ACK loops) only one such ACK goes per
    /// [`TcpConfig::invalid_ack_interval`]: two ends whose states disagree each find the
    /// other's ACKs unacceptable and would answer each with another ACK forever. The first
    /// goes at once; repeats within the interval are counted in
    /// [`TcpStats::invalid_acks_suppressed`] and not sent. A segment with data or a FIN (a
    /// retransmission whose ACK was lost, a one-octet keep-alive probe, a FIN retransmitted
    /// to TIME-WAIT) is always answered, as Linux does (`tcp_oow_rate_limited`): its answer
    /// is a bare ACK, so it cannot keep a loop going, and its sender needs the answer to
    /// make progress.
    fn ack_unacceptable(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        if seg.len() == 0 {
            let now = ctx.now;
            // (A clock that went backwards holds nothing back.)
            let recent = self.invalid_ack_at.is_some_and(|at| {
                at <= now && now.saturating_duration_since(at) < ctx.config.invalid_ack_interval
            });
            if recent {
                ctx.stats.invalid_acks_suppressed += 1;
                return;
            }
            self.invalid_ack_at = Some(now);
        }
        self.ack_now = true;
    }

    /// Where an ACK without data goes: SND.MAX, the next octet never sent, even while SND.NXT
    /// stands lower to resend after a timeout or a lowered path MTU (at SND.NXT it lies
    /// below what the peer may already hold, out of its window, and the peer drops it
    /// unprocessed, ACK field and all [RFC 9293 § 3.10.7.4]: when both ends resend that way,
    /// neither hears the other's ACKs, their resent data old to the other too, and both time
    /// out). But never beyond the right edge of the peer's window, SND.UNA + SND.WND, which
    /// is where it goes when that window is full, shrunk or shut (then SND.UNA, the peer's
    /// RCV.NXT, the only place a shut window takes a segment). Linux's `tcp_acceptable_seq`.
    #[inline(always)]
    fn bare_ack_seq(&self) -> Seq {
        let edge = self.snd_una + self.snd_wnd;
        if self.snd_max <= edge {
            self.snd_max
        } else {
            edge
        }
    }

    /// The window a segment offers, in octets: scaled by the peer's shift, except in a
    /// segment with SYN, whose window is never scaled [RFC 7323 § 2.2] (the crossing SYN,ACK
    /// of a simultaneous open is the one such segment processed past the handshake).
    #[inline(always)]
    fn peer_window(&self, seg: &Segment<'_>) -> usize {
        let window = usize::from(seg.window);
        if seg.has(TcpFlags::SYN) {
            window
        } else {
            window << self.snd_shift
        }
    }

    /// The peer's SYN,ACK of a simultaneous open, in SYN-RECEIVED (RFC 9293 figure 7, line 6:
    /// `<SEQ=IRS><ACK=ISS+1><CTL=SYN,ACK>`, no text, no FIN). Its SYN lies below RCV.NXT, so
    /// the sequence test of § 3.10.7.4 finds it unacceptable and the connection would never
    /// take its ACK: it would stay in SYN-RECEIVED, answering with an ACK (or a challenge
    /// ACK), until its own SYN,ACK was retransmitted and acknowledged. RFC 9293 appendix A.2
    /// names the fault; like Linux (`tcp_validate_incoming`), the segment is taken as
    /// acceptable, its old SYN dropped and acknowledged, and its ACK completes the handshake.
    /// Only after an active open: a listener's half-open connection has sent no SYN of its
    /// own for a SYN,ACK to answer.
    fn is_crossing_syn_ack(&self, seg: &Segment<'_>) -> bool {
        self.state == TcpState::SynReceived
            && self.simultaneous_open
            && seg.has(TcpFlags::SYN)
            && seg.has(TcpFlags::ACK)
            && !seg.has(TcpFlags::RST)
            && !seg.has(TcpFlags::FIN)
            && seg.payload.is_empty()
            && seg.seq == self.irs
            && self.snd_una < seg.ack
            && seg.ack <= self.snd_nxt
    }

    fn challenge_ack(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.limiter.allow(ctx.now, ctx.config.challenge_ack_limit) {
            ctx.stats.challenge_acks += 1;
            self.ack_now = true;
        } else {
            ctx.stats.challenge_acks_suppressed += 1;
        }
    }

    /// [RFC 9293 § 3.10.7.4] SYN-RECEIVED and the synchronized states.
    fn input_synchronized(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        let rst = seg.has(TcpFlags::RST);
        // A retransmitted SYN while we are SYN-RECEIVED: send the SYN-ACK again.
        if self.state == TcpState::SynReceived
            && seg.has(TcpFlags::SYN)
            && !seg.has(TcpFlags::ACK)
            && !rst
            && seg.seq == self.irs
        {
            self.snd_nxt = self.iss;
            return;
        }
        // Once timestamps are negotiated, a segment without the option is dropped silently
        // [RFC 7323 § 3.2] (and never ends the connection).
        if self.timestamps && !rst && seg.timestamps.is_none() {
            ctx.stats.timestamp_missing += 1;
            return;
        }
        // PAWS [RFC 7323 § 5.3].
        if self.timestamps && !rst {
            if let Some((tsval, _)) = seg.timestamps {
                if (tsval.wrapping_sub(self.ts_recent) as i32) < 0 {
                    if ctx.now.saturating_duration_since(self.ts_recent_at) > PAWS_IDLE {
                        self.ts_recent = tsval;
                    } else {
                        ctx.stats.paws_rejected += 1;
                        self.note_old_octets(seg);
                        self.ack_unacceptable(ctx, seg);
                        return;
                    }
                }
            }
        }
        // First: the sequence number [RFC 9293 § 3.10.7.4, the four cases of table 6].
        let wnd = self.rcv_adv - self.rcv_nxt;
        let seg_len = seg.len();
        let in_window = |s: Seq| s.in_range(self.rcv_nxt, self.rcv_nxt + wnd);
        let crossing_syn_ack = self.is_crossing_syn_ack(seg);
        let acceptable = match (seg_len, wnd) {
            (0, 0) => seg.seq == self.rcv_nxt,
            // A bare ACK at the right edge itself, RCV.NXT + RCV.WND, is taken too: one
            // octet past RFC 9293's test, as Linux and the BSDs take it (RFC 9293 appendix
            // A.2 leaves such widening to implementations). A sender whose flight was lost
            // whole puts its ACKs there after a timeout (the most it may assume the
            // receiver holds, never beyond the window it offered), and a strict test would
            // drop them, ACK field and all. Not a RST: out of the window, it is dropped.
            (0, _) => in_window(seg.seq) || (seg.seq == self.rcv_nxt + wnd && !rst),
            (_, 0) => false,
            (_, _) => in_window(seg.seq) || in_window(seg.seq + (seg_len - 1)),
        } || crossing_syn_ack;
        if crossing_syn_ack {
            // Its old SYN is acknowledged, as a duplicate is (and as Linux does): should our
            // own SYN,ACK be lost, the peer is established by this ACK at once.
            self.ack_now = true;
        }
        // With a zero window, the ACK, URG and RST of a segment at RCV.NXT are still
        // processed (MUST-66); one that carries data or FIN (a zero-window probe) is still
        // not acceptable, so it is acknowledged too: the ACK tells the sender the window.
        let ack_only = !acceptable && wnd == 0 && seg.seq == self.rcv_nxt;
        if ack_only && seg_len > 0 && !rst && !seg.has(TcpFlags::SYN) {
            self.ack_now = true;
        }
        if !acceptable && !ack_only {
            if seg.has(TcpFlags::SYN) && !rst {
                // RFC 5961 § 4.2: a SYN gets a (rate-limited) challenge ACK wherever it is.
                self.challenge_ack(ctx);
            } else if !rst {
                ctx.stats.out_of_window += 1;
                self.note_old_octets(seg);
                self.ack_unacceptable(ctx, seg);
                if self.state == TcpState::TimeWait && seg.has(TcpFlags::FIN) {
                    // A retransmitted FIN: ACK it and restart the 2·MSL wait.
                    self.enter_time_wait(ctx);
                }
            }
            return;
        }
        // Trim to the window.
        let mut seq = seg.seq;
        let mut data = seg.payload;
        let mut syn = seg.has(TcpFlags::SYN);
        let mut fin = seg.has(TcpFlags::FIN);
        if syn && seq < self.rcv_nxt {
            syn = false;
            seq += 1u32;
        }
        // Octets below RCV.NXT (reported in a D-SACK block if the text is processed).
        let mut old_octets = None;
        if seq < self.rcv_nxt {
            let cut = (self.rcv_nxt - seq).min(data.len());
            old_octets = Some((seq, seq + cut));
            data = &data[cut..];
            seq += cut;
            if seq < self.rcv_nxt {
                fin = false; // an old FIN
            }
        }
        let room = (self.rcv_nxt + wnd) - seq;
        if ack_only {
            data = &[];
            fin = false;
        } else if data.len() > room {
            data = &data[..room];
            fin = false;
        }
        // Second: RST [RFC 5961 § 3.2].
        if rst {
            if seg.seq != self.rcv_nxt {
                self.challenge_ack(ctx);
                return;
            }
            ctx.stats.resets_received += 1;
            match self.state {
                TcpState::SynReceived => self.fail(ctx, TcpError::Refused),
                TcpState::Established
                | TcpState::FinWait1
                | TcpState::FinWait2
                | TcpState::CloseWait => self.fail(ctx, TcpError::Reset),
                _ => self.enter_closed(ctx),
            }
            return;
        }
        // Fourth: SYN [RFC 5961 § 4.2]: a challenge ACK whatever the sequence number.
        if syn {
            self.challenge_ack(ctx);
            return;
        }
        // Fifth: ACK.
        if !seg.has(TcpFlags::ACK) {
            return;
        }
        if self.state == TcpState::SynReceived {
            if self.snd_una < seg.ack && seg.ack <= self.snd_max {
                self.state = TcpState::Established;
                self.rtt.handshake_done();
                self.snd_wnd = self.peer_window(seg);
                self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
                self.snd_wl1 = seg.seq;
                self.snd_wl2 = seg.ack;
                ctx.events.push(ConnEvent::Connected);
            } else {
                self.send_reset_for(ctx, seg);
                return;
            }
        }
        // Timestamps: TS.Recent [RFC 7323 § 4.3].
        if let (true, Some((tsval, _))) = (self.timestamps, seg.timestamps) {
            if seg.seq <= self.last_ack_sent && (tsval.wrapping_sub(self.ts_recent) as i32) >= 0 {
                self.ts_recent = tsval;
                self.ts_recent_at = ctx.now;
            }
        }
        if !self.process_ack(ctx, seg, seq) {
            return;
        }
        match self.state {
            TcpState::FinWait1 if self.fin_acked => self.state = TcpState::FinWait2,
            TcpState::Closing if self.fin_acked => self.enter_time_wait(ctx),
            TcpState::LastAck if self.fin_acked => {
                self.enter_closed(ctx);
                return;
            }
            _ => {}
        }
        // Sixth: URG: RCV.UP ← max(RCV.UP, SEG.SEQ + SEG.UP), the pointer being the octet
        // after the urgent data [RFC 6093 § 4]; the data itself stays inline [RFC 6093 § 6].
        if seg.has(TcpFlags::URG)
            && matches!(
                self.state,
                TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
            )
        {
            let up = seg.seq + usize::from(seg.urgent);
            if self.rcv_up.is_none_or(|old| old < up) {
                self.rcv_up = Some(up);
                if up > self.read_seq() {
                    ctx.events.push(ConnEvent::Urgent);
                }
            }
        }
        // Seventh: segment text.
        if !data.is_empty()
            && matches!(
                self.state,
                TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
            )
        {
            if let Some((start, end)) = old_octets {
                self.note_duplicate(start, end);
            }
            self.receive_text(ctx, seq, data);
            if self.state == TcpState::Closed {
                return;
            }
        } else if !data.is_empty() {
            fin = false; // text after the peer's FIN cannot be
        }
        // Eighth: FIN.
        if fin {
            let at = seq + data.len();
            if at == self.rcv_nxt {
                self.receive_fin(ctx);
            } else if at > self.rcv_nxt {
                self.fin_at = Some(at);
                self.ack_now = true;
            }
        }
    }

    #[inline(always)]
    fn receive_text(&mut self, ctx: &mut Ctx<'_>, seq: Seq, data: &[u8]) {
        if self.receive_closed && !data.is_empty() {
            // Nobody will read it: the RST tells the peer its data was lost [RFC 9293
            // § 3.6.1 SHLD-3, RFC 1122 § 4.2.2.13].
            ctx.stats.data_after_close += 1;
            self.abort(ctx);
            return;
        }
        let offset = seq - self.rcv_nxt;
        let had_holes = self.recv.has_out_of_order();
        if had_holes {
            if let Some((start, end)) = self.recv.held_out_of_order(offset, data.len()) {
                self.note_duplicate(self.rcv_nxt + start, self.rcv_nxt + end);
            }
        }
        match self.recv.write(offset, data) {
            Some(advance) => {
                self.rcv_nxt += advance;
                if advance > 0 {
                    ctx.events.push(ConnEvent::Readable);
                }
                if offset > 0 || had_holes {
                    // Out of order, or filling a hole: ACK at once [RFC 5681 § 4.2], and
                    // the sender, in loss recovery, gets quick ACKs for a while. "At once"
                    // is at the end of the batch of frames being handled: every segment
                    // queued is processed before an ACK goes out, and one ACK covers them
                    // all [RFC 9293 § 3.10.7.4, MUST-58, MUST-59; RFC 1122 § 4.2.2.20].
                    self.delayed_ack_at = Some(ctx.now);
                    self.quick_acks = QUICK_ACKS;
                } else {
                    self.unacked_bytes += data.len();
                    if ctx.config.ack_delay.0 == 0 {
                        self.ack_now = true;
                    } else if self.unacked_bytes >= 2 * self.rmss() && self.quick_acks > 0 {
                        // At least every second full-sized segment [RFC 9293 § 3.8.6.3,
                        // RFC 5681 § 4.2].
                        self.quick_acks -= 1;
                        self.ack_now = true;
                    } else if self.unacked_bytes >= 2 * self.rmss() {
                        // The same, but at the end of the batch of frames being handled
                        // rather than at once: the delayed ACK falls due now and goes out when
                        // the driver next polls for frames (or timeouts), so one ACK covers
                        // every segment handed in before that, as with receive offload.
                        self.delayed_ack_at = Some(ctx.now);
                    } else if self.delayed_ack_at.is_none() {
                        self.delayed_ack_at = Some(ctx.now + ctx.config.ack_delay);
                    }
                }
            }
            None => {
                ctx.stats.out_of_order_drops += 1;
                self.ack_now = true;
            }
        }
        if self.fin_at == Some(self.rcv_nxt) {
            self.receive_fin(ctx);
        }
    }

    fn receive_fin(&mut self, ctx: &mut Ctx<'_>) {
        self.fin_at = None;
        if !self.fin_received {
            self.rcv_nxt += 1u32;
            self.fin_received = true;
            ctx.events.push(ConnEvent::Readable);
        }
        self.ack_now = true;
        match self.state {
            TcpState::SynReceived | TcpState::Established => self.state = TcpState::CloseWait,
            TcpState::FinWait1 if self.fin_acked => self.enter_time_wait(ctx),
            TcpState::FinWait1 => self.state = TcpState::Closing,
            TcpState::FinWait2 | TcpState::TimeWait => self.enter_time_wait(ctx),
            _ => {}
        }
    }

    /// The ACK field [RFC 9293 § 3.10.7.4 fifth check; RFC 5961 § 5; RFC 5681; RFC 6582;
    /// RFC 6675]. False if the segment must be dropped.
    fn process_ack(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>, seq: Seq) -> bool {
        let ack = seg.ack;
        // A zero-window probe's octet may be acknowledged although it was not counted as sent.
        if let Some(end) = self.window_probe_end {
            if ack > self.snd_max && ack <= end && self.snd_nxt == self.snd_max {
                self.snd_max = ack;
                self.snd_nxt = ack;
            }
            if ack >= end || self.snd_wnd > 0 {
                self.window_probe_end = None;
            }
        }
        if ack > self.snd_max {
            // Acknowledges something not yet sent: ACK and drop [RFC 5961 § 5.2].
            ctx.stats.ack_of_unsent += 1;
            self.ack_unacceptable(ctx, seg);
            return false;
        }
        let oldest = Seq(self.snd_una.0.wrapping_sub(self.max_snd_wnd.max(1) as u32));
        if ack < oldest {
            ctx.stats.ack_too_old += 1;
            self.ack_unacceptable(ctx, seg);
            return false;
        }
        self.probe_unanswered_since = None;
        let mut newly_sacked = false;
        if self.sack {
            for b in seg.sack_blocks() {
                newly_sacked |= self.scoreboard.add(
                    Seq(b.left),
                    Seq(b.right),
                    self.snd_una.max(ack),
                    self.snd_max,
                );
            }
        }
        let window = self.peer_window(seg);
        let smss = self.smss();
        let advanced = ack > self.snd_una;
        // Before cwnd grows on this ACK: a probe that repaired a loss halves it.
        self.tail_loss_probe_ack(seg, advanced, newly_sacked);
        if advanced {
            // The SYN's octet is no data: cwnd is IW once the handshake is over [RFC 5681 § 3.1].
            let acked = (ack - self.snd_una) - usize::from(self.snd_una == self.iss);
            self.cc.last_advance = acked;
            let fin_seq = self.fin_seq();
            if ack > self.send_seq {
                let n = (ack - self.send_seq).min(self.send.len());
                self.send.consume(n);
                self.send_seq += n;
            }
            if self.snd_up.is_some_and(|up| up <= ack) {
                self.snd_up = None; // the urgent data is acknowledged: urgent mode ends
            }
            if self.fin_queued && !self.fin_acked && ack == fin_seq + 1u32 {
                self.fin_acked = true;
            }
            self.snd_una = ack;
            self.snd_nxt = self.snd_nxt.max(ack);
            self.scoreboard.ack(ack);
            // RTT: from the echoed timestamp [RFC 7323 § 4.1], else from one timed
            // segment never retransmitted (Karn's rule).
            let ts_sample = match (self.timestamps, seg.timestamps) {
                (true, Some((_, echo))) if echo != 0 => {
                    let ms = self.ts_now(ctx.now).wrapping_sub(echo);
                    (ms < 60_000).then(|| Duration::from_millis(u64::from(ms)))
                }
                _ => None,
            };
            if let Some(r) = ts_sample {
                self.rtt.sample(r);
                self.rtt_timing = None;
            } else if let Some((s, t)) = self.rtt_timing {
                if ack > s {
                    self.rtt.sample(ctx.now.saturating_duration_since(t));
                    self.rtt_timing = None;
                }
            }
            match self.cc.recovery {
                None => self.cc.on_new_ack(acked, smss),
                Some(r) if ack >= r.recover => {
                    // Full acknowledgment: leave recovery [RFC 6582 § 3.2 step 3].
                    self.cc.cwnd = self.cc.ssthresh.min(self.flight().max(smss) + smss);
                    self.cc.recovery = None;
                    self.cc.dup_acks = 0;
                    self.retransmits.clear();
                }
                Some(mut r) => {
                    // Partial acknowledgment [RFC 6582 § 3.2 step 4; RFC 6675 § 5].
                    if self.sack {
                        r.high_rxt = r.high_rxt.max(ack);
                        self.cc.recovery = Some(r);
                    } else {
                        self.retransmit(ctx, self.snd_una, smss);
                        self.cc.cwnd = self.cc.cwnd.saturating_sub(acked)
                            + if acked >= smss { smss } else { 0 };
                        self.cc.cwnd = self.cc.cwnd.max(smss);
                    }
                }
            }
            // The RTO stays backed off until an RTT sample (`rtt.sample`) [RFC 9293 § 3.8.2].
            self.persist_backoff = 0;
            if self.snd_una == self.snd_max {
                self.retransmit_at = None;
                self.unacked_since = None;
            } else {
                self.retransmit_at = Some(ctx.now + self.rtt.rto());
                self.unacked_since = Some(ctx.now);
            }
            if self.want_writable && self.send.free() > 0 && self.can_send() {
                self.want_writable = false;
                ctx.events.push(ConnEvent::Writable);
            }
        } else if ack == self.snd_una
            && seg.payload.is_empty()
            && !seg.has(TcpFlags::SYN)
            && !seg.has(TcpFlags::FIN)
            // Without SACK, the window must not have changed [RFC 5681 § 2]; with SACK, the
            // ACK must SACK octets not SACKed before, whatever its window [RFC 6675 § 2] (a
            // receiver holding out-of-order data may shrink its window, and those ACKs were
            // not counted: recovery waited for the timer).
            && (if self.sack { newly_sacked } else { window == self.snd_wnd })
            && self.snd_max > self.snd_una
        {
            // A duplicate ACK [RFC 5681 § 2, RFC 6675 § 2].
            self.cc.dup_acks += 1;
            ctx.stats.duplicate_acks += 1;
            if self.cc.recovery.is_some() {
                if !self.sack {
                    self.cc.cwnd += smss; // NewReno inflation [RFC 6582 § 3.2 step 3]
                }
            } else {
                let sack_loss = self.sack
                    && self
                        .scoreboard
                        .lost_below(smss)
                        .is_some_and(|l| l > self.snd_una);
                // With SACK, data SACKed above a cumulative ACK at or past `recover` is
                // evidence of a new loss, not of retransmissions the peer already had (the
                // ambiguity RFC 6582 § 3.2 step 2 guards against without SACK): recovery
                // starts [RFC 6675 § 5 (2)]. (It used to wait for the timer when the first
                // segment after a recovery was lost.)
                let sack_evidence = sack_loss && ack >= self.cc.recover;
                if (self.cc.dup_acks >= DUP_THRESH || sack_loss)
                    && (sack_evidence || self.cc.may_fast_retransmit(ack, smss))
                {
                    self.fast_retransmit(ctx);
                }
            }
        }
        if self.sack && newly_sacked {
            self.detect_sack_loss(ctx, advanced);
        }
        self.update_send_window(ctx.now, seq, ack, window, advanced);
        if advanced {
            self.arm_tail_loss_probe(ctx);
        }
        true
    }

    /// Schedules a tail loss probe [RFC 8985 § 7.2], after new data went out or an ACK
    /// advanced SND.UNA: on a SACK connection in the open state (not in recovery, not
    /// resending after a timeout, no probe episode under way) with data in flight and a
    /// measured SRTT, PTO = 2·SRTT (at least 10 ms), plus the worst-case delayed ACK (200 ms)
    /// when only one segment is in flight. A probe that would be due no earlier than the
    /// retransmission timer is left to that timer (RFC 8985 § 7.2 sends the probe at the
    /// timer's time instead, putting the timeout off by another RTO).
    fn arm_tail_loss_probe(&mut self, ctx: &Ctx<'_>) {
        self.tlp_at = None;
        let open = ctx.config.tail_loss_probe
            && self.sack
            && self.may_probe_tail()
            && self.cc.recovery.is_none()
            && self.tlp.is_none()
            && self.snd_nxt == self.snd_max
            && self.snd_max > self.snd_una
            && self.snd_wnd > 0
            && self.window_probe_end.is_none();
        let Some(srtt) = self.rtt.srtt().filter(|_| open) else {
            return;
        };
        let mut pto = (srtt + srtt).max(MIN_PROBE_TIMEOUT);
        if self.flight() <= self.smss() {
            pto = pto + WORST_CASE_DELAYED_ACK;
        }
        let at = ctx.now + pto;
        if self.retransmit_at.is_some_and(|rto| at < rto) {
            self.tlp_at = Some(at);
        }
    }

    /// The states with data or a FIN of ours that may go unacknowledged: a lost tail ending
    /// in our FIN is probed too.
    fn may_probe_tail(&self) -> bool {
        matches!(
            self.state,
            TcpState::Established
                | TcpState::CloseWait
                | TcpState::FinWait1
                | TcpState::Closing
                | TcpState::LastAck
        )
    }

    /// The probe timer expired [RFC 8985 § 7.3]: one segment of new data if the window
    /// allows, else the last segment sent again, whatever cwnd says; the retransmission
    /// timer restarts.
    fn send_tail_loss_probe(&mut self, ctx: &mut Ctx<'_>) {
        if !(self.cc.recovery.is_none()
            && self.tlp.is_none()
            && self.snd_nxt == self.snd_max
            && self.snd_max > self.snd_una
            && self.may_probe_tail())
        {
            return;
        }
        let smss = self.smss();
        let unsent = (self.send_seq + self.send.len()).max(self.snd_nxt) - self.snd_nxt;
        let room = (self.snd_una + self.snd_wnd).max(self.snd_nxt) - self.snd_nxt;
        let retransmitted = unsent == 0 || room == 0;
        let (start, n) = if retransmitted {
            // The last segment the peer has not SACKed: resending octets it holds would
            // bring an ACK with nothing new in it.
            let Some((from, end)) = self
                .scoreboard
                .last_unsacked(self.snd_una, self.snd_max, smss)
            else {
                return;
            };
            if self.rtt_timing.is_some_and(|(s, _)| s >= from) {
                self.rtt_timing = None; // Karn: never time a resent segment
            }
            (from, self.retransmit(ctx, from, end - from))
        } else {
            let from = self.snd_nxt;
            let n = self.transmit(ctx, from, smss.min(unsent).min(room));
            self.snd_nxt += n;
            self.snd_max = self.snd_max.max(self.snd_nxt);
            (from, n)
        };
        if n == 0 {
            return;
        }
        ctx.stats.tail_loss_probes += 1;
        self.tlp = Some(TailLossProbe {
            start,
            sent_end: start + n,
            end: self.snd_max,
            retransmitted,
        });
        self.retransmit_at = Some(ctx.now + self.rtt.rto());
    }

    /// Ends the probe's episode [RFC 8985 § 7.4]. A probe of new data needs nothing: any loss
    /// it revealed goes through recovery. A probe that resent octets either repaired a loss
    /// or duplicated octets that had arrived, and the ACKs tell which, as in Linux's
    /// `tcp_process_tlp_ack`: a D-SACK of the probe's octets [RFC 2883 § 4], or a bare
    /// duplicate ACK at TLP.end_seq, says both copies arrived (no loss); an ACK beyond
    /// TLP.end_seq with neither says the probe repaired a loss, a congestion event: cwnd is
    /// halved (§ 7.4.2). An ACK exactly at TLP.end_seq leaves the question open.
    fn tail_loss_probe_ack(&mut self, seg: &Segment<'_>, advanced: bool, newly_sacked: bool) {
        let Some(probe) = self.tlp else {
            return;
        };
        let ack = seg.ack;
        if !probe.retransmitted {
            if ack >= probe.end {
                self.tlp = None;
            }
            return;
        }
        let mut blocks = seg.sack_blocks().iter();
        let dsack = blocks.next().is_some_and(|first| {
            let (l, r) = (Seq(first.left), Seq(first.right));
            let duplicate = r <= ack
                || blocks
                    .next()
                    .is_some_and(|second| Seq(second.left) <= l && r <= Seq(second.right));
            duplicate && l < probe.sent_end && probe.start < r
        });
        let bare_duplicate = ack == probe.end
            && !advanced
            && !newly_sacked
            && seg.payload.is_empty()
            && !seg.has(TcpFlags::SYN)
            && !seg.has(TcpFlags::FIN);
        if dsack || bare_duplicate {
            self.tlp = None;
        } else if ack > probe.end {
            self.tlp = None;
            if self.cc.recovery.is_none() {
                self.cc.tail_loss_repaired(self.smss(), self.snd_max);
            }
        }
    }

    /// Losses found from SACK information where RFC 6675 § 5, which looks only at duplicate
    /// ACKs and only until a hole is retransmitted, finds none (RFC 8985 runs its loss
    /// detection on every ACK and for retransmissions too):
    /// - in recovery, a retransmission that data sent after it has overtaken (see
    ///   [`RetransmitMarks`]) is resent at once, and cwnd is halved again, once per round
    ///   trip;
    /// - outside recovery, an ACK that advances SND.UNA while SACKing enough new data above
    ///   it for `IsLost(SND.UNA)` starts recovery, as a duplicate ACK with that information
    ///   would (a receiver that acknowledges a batch of segments at once may send no
    ///   duplicate ACK after it, and without this the loss waited for the timer).
    /// - outside recovery, an ACK that SACKs a tail loss probe of new data while octets
    ///   below it are missing starts recovery (see [`TailLossProbe`]).
    fn detect_sack_loss(&mut self, ctx: &mut Ctx<'_>, advanced: bool) {
        let smss = self.smss();
        match self.cc.recovery {
            Some(_) => {
                while let Some((from, sent_before)) =
                    self.retransmits
                        .take_lost(&self.scoreboard, self.snd_una, smss)
                {
                    ctx.stats.lost_retransmissions += 1;
                    // One reduction per round trip: a retransmission sent before the latest
                    // reduction was lost in the round that reduction answered.
                    if self.cc.recovery.is_some_and(|r| sent_before >= r.recover) {
                        self.cc.lost_retransmission(smss, self.snd_max);
                    }
                    let limit = self.scoreboard.unsacked_run(from, smss);
                    let n = self.retransmit_marked(ctx, from, limit);
                    if let Some(r) = self.cc.recovery.as_mut() {
                        r.high_rxt = r.high_rxt.max(from + n);
                    }
                }
            }
            // The probe of new data was delivered while octets below it were not: RACK
            // takes those as lost [RFC 8985 § 6.2], every one of them having been sent at
            // least a PTO (2·SRTT, more than RACK's reordering window) before the probe.
            None if self.tlp.is_some_and(|p| {
                !p.retransmitted
                    && self.snd_una < p.start
                    && self
                        .scoreboard
                        .sacked_at(p.start)
                        .is_some_and(|e| e >= p.end)
            }) =>
            {
                self.fast_retransmit(ctx);
            }
            None if advanced
                && self.snd_una >= self.cc.recover
                && self
                    .scoreboard
                    .lost_below(smss)
                    .is_some_and(|l| l > self.snd_una) =>
            {
                self.fast_retransmit(ctx);
            }
            None => {}
        }
    }

    /// The send window [RFC 9293 § 3.10.7.4, SND.WL1/SND.WL2]: taken from a segment that is
    /// not older than the one it last came from, or whose ACK `advanced` SND.UNA (as Linux's
    /// `tcp_may_update_window`): a bare ACK taken at the right edge of our window leaves
    /// SND.WL1 there, ahead of the peer's RCV.NXT, and the peer's next segments, at its
    /// RCV.NXT, would otherwise never update the window again, however they shrank it.
    #[inline(always)]
    fn update_send_window(
        &mut self,
        now: Instant,
        seq: Seq,
        ack: Seq,
        window: usize,
        advanced: bool,
    ) {
        if advanced || self.snd_wl1 < seq || (self.snd_wl1 == seq && self.snd_wl2 <= ack) {
            if self.snd_wnd == 0 && window > 0 && self.unacked_since.is_some() {
                // A window shut with data outstanding opens: the time it stayed shut (its
                // probes answered, or the user timeout would have ended the connection) was
                // no failure to deliver, and the user timeout counts from now [RFC 9293
                // § 3.8.6, SHLD-17; RFC 1122 § 4.2.2.17].
                self.unacked_since = Some(now);
            }
            self.snd_wnd = window;
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
            self.max_snd_wnd = self.max_snd_wnd.max(window);
            if window > 0 {
                self.persist_at = None;
            }
        }
    }

    /// Fast retransmit and entry into fast recovery [RFC 5681 § 3.2, RFC 6582 § 3.2 step 2,
    /// RFC 6675 § 5].
    fn fast_retransmit(&mut self, ctx: &mut Ctx<'_>) {
        let smss = self.smss();
        ctx.stats.fast_retransmits += 1;
        // Recovery takes over from a probe episode [RFC 8985 § 7.4].
        self.tlp_at = None;
        self.tlp = None;
        // Data sent by Limited Transmit is left out of FlightSize [RFC 5681 § 3.2 step 2].
        let flight = self.flight().saturating_sub(self.cc.limited_transmit_sent);
        self.cc
            .enter_recovery(flight, smss, self.snd_una, self.snd_max);
        self.rtt_timing = None;
        if self.sack {
            // The first segment presumed lost goes at once, whatever pipe says
            // [RFC 6675 § 5 step (4.3)]; the pipe algorithm in `output` sends the rest.
            self.cc.cwnd = self.cc.ssthresh;
            let limit = self.scoreboard.unsacked_run(self.snd_una, smss);
            let n = self.retransmit_marked(ctx, self.snd_una, limit);
            if let Some(r) = self.cc.recovery.as_mut() {
                r.high_rxt = self.snd_una + n;
            }
        } else {
            self.retransmit(ctx, self.snd_una, smss);
            self.cc.cwnd = self.cc.ssthresh + DUP_THRESH as usize * smss;
        }
    }

    // ---------------------------------------------------------------- output

    /// The window to advertise, with receiver SWS avoidance [RFC 9293 § 3.8.6.2.2]: the right
    /// edge moves only by at least min(buffer / 2, Eff.snd.MSS), and never moves left. The
    /// RFC has the receiver use its own effective send MSS (the peer's MSS, less options),
    /// "making the assumption that it is the same as the sender's".
    fn receive_window(&self) -> usize {
        let free = self.recv.window();
        let current = (self.rcv_adv - self.rcv_nxt).min(free);
        let threshold = (self.recv.capacity() / 2).min(self.smss());
        if free >= current + threshold {
            free
        } else {
            current
        }
    }

    fn window_update_due(&self) -> bool {
        let current = self.rcv_adv - self.rcv_nxt;
        let new = self.receive_window();
        new > current
            && (new - current >= (self.recv.capacity() / 2).min(2 * self.rmss())
                || current < self.rmss())
    }

    /// Builds a segment with ACK, window and options, carrying the send buffer's octets at
    /// offsets `payload`, and queues it.
    fn emit(
        &mut self,
        ctx: &mut Ctx<'_>,
        seq: Seq,
        flags_: TcpFlags,
        payload: core::ops::Range<usize>,
    ) {
        let syn = flags_.contains(TcpFlags::SYN);
        let rst = flags_.contains(TcpFlags::RST);
        let has_ack = flags_.contains(TcpFlags::ACK);
        let mut options = SendOptions::default();
        let mut blocks_left_out = false;
        let window_field;
        if syn {
            let passive = has_ack;
            options.mss = Some(self.mss_local.min(65_535) as u16);
            if ctx.config.window_scaling && (!passive || self.window_scaling) {
                options.window_scale = Some(scale_for(self.recv.capacity()));
            }
            options.sack_permitted = ctx.config.sack && (!passive || self.sack);
            if ctx.config.timestamps && (!passive || self.timestamps) {
                options.timestamps = Some((
                    self.ts_now(ctx.now),
                    if passive { self.ts_recent } else { 0 },
                ));
            }
            // The window of a SYN is not scaled [RFC 7323 § 2.2].
            let w = self.recv.window().min(65_535);
            window_field = w as u16;
            if has_ack {
                self.rcv_adv = self.rcv_adv.max(self.rcv_nxt + w);
            }
        } else {
            if self.timestamps && !rst {
                options.timestamps = Some((self.ts_now(ctx.now), self.ts_recent));
            }
            let w = self.receive_window();
            let field = (w >> self.rcv_shift).min(65_535);
            window_field = field as u16;
            if !rst {
                self.rcv_adv = self.rcv_adv.max(self.rcv_nxt + (field << self.rcv_shift));
            }
            if self.sack && !rst && (self.dsack.is_some() || self.recv.has_out_of_order()) {
                // RFC 2018 § 4: the block with the latest segment first, then the others
                // most recent first, as many as fit (3 with timestamps, else 4); before
                // them, a D-SACK block reporting octets that arrived again, once [RFC 2883
                // § 4] (one that lies in a block still out of order is followed by that
                // block, the most recently changed). Data and options together stay within
                // the peer's MSS [RFC 6691]: a segment with no room left for blocks goes
                // without them, and a bare ACK carrying them follows.
                let free = self.smss().saturating_sub(payload.len());
                let fit = free.saturating_sub(4) / 8;
                let room = (if options.timestamps.is_some() { 3 } else { 4 }).min(fit);
                if room == 0 {
                    blocks_left_out = true;
                } else if let Some((left, right)) = self.dsack.take() {
                    options.sack[0] = (left.0, right.0);
                    options.sack_len = 1;
                }
                for r in self
                    .recv
                    .sack_ranges()
                    .into_iter()
                    .take(room - options.sack_len)
                {
                    options.sack[options.sack_len] =
                        ((self.rcv_nxt + r.start).0, (self.rcv_nxt + r.end).0);
                    options.sack_len += 1;
                }
            }
        }
        let ack = if has_ack { self.rcv_nxt } else { Seq(0) };
        let mut flags_ = flags_;
        let mut urgent = 0;
        if let Some(up) = self.snd_up.filter(|&up| up > seq && !syn && !rst) {
            // RFC 6093 § 4: the pointer is the offset of the octet following the urgent
            // data; one too far for 16 bits is sent as 65535 (as Linux does), still ahead of
            // this segment's data.
            flags_ = TcpFlags(flags_.0 | TcpFlags::URG.0);
            urgent = (up - seq).min(usize::from(u16::MAX)) as u16;
        }
        if has_ack {
            self.count_batch();
            self.last_ack_sent = self.rcv_nxt;
            // SACK blocks that did not fit go in a bare ACK after this segment.
            self.ack_now = blocks_left_out;
            self.delayed_ack_at = None;
            self.unacked_bytes = 0;
        }
        ctx.stats.segments_out += 1;
        let frame = ctx.frames.take_stale();
        let payload = self.send.slices(payload.start, payload.len());
        let frame = match options {
            SendOptions {
                mss: None,
                window_scale: None,
                sack_permitted: false,
                timestamps: Some(timestamps),
                sack_len: 0,
                ..
            } => self.template.build(
                frame,
                (seq, ack, flags_, window_field, urgent),
                timestamps,
                payload,
            ),
            _ => SegmentFields {
                local: self.local,
                remote: self.remote,
                seq,
                ack,
                flags: flags_,
                window: window_field,
                urgent,
                options,
            }
            .build(frame, payload),
        };
        ctx.out.push(frame);
    }

    /// Sends up to `max_len` octets (and FIN, if it follows them) starting at `seq`, without
    /// moving SND.NXT. Returns the sequence space used.
    #[inline(always)]
    fn transmit(&mut self, ctx: &mut Ctx<'_>, seq: Seq, max_len: usize) -> usize {
        let offset = seq - self.send_seq;
        let avail = self.send.len().saturating_sub(offset);
        let len = max_len.min(avail);
        let fin = self.fin_queued && seq + len == self.fin_seq() && !self.fin_acked;
        let mut f = TcpFlags::ACK.0;
        if len > 0 && offset + len == self.send.len() {
            f |= TcpFlags::PSH.0;
        }
        if fin {
            f |= TcpFlags::FIN.0;
        }
        if len == 0 && !fin {
            return 0;
        }
        self.emit(ctx, seq, TcpFlags(f), offset..offset + len);
        if self.retransmit_at.is_none() {
            self.retransmit_at = Some(ctx.now + self.rtt.rto());
        }
        if self.unacked_since.is_none() {
            self.unacked_since = Some(ctx.now);
        }
        if fin {
            match self.state {
                TcpState::Established => self.state = TcpState::FinWait1,
                TcpState::CloseWait => self.state = TcpState::LastAck,
                _ => {}
            }
        }
        len + fin as usize
    }

    /// Retransmits one segment's worth at `seq`.
    fn retransmit(&mut self, ctx: &mut Ctx<'_>, seq: Seq, max_len: usize) -> usize {
        ctx.stats.retransmits += 1;
        let n = self.transmit(ctx, seq, max_len);
        let end = seq + n;
        if self.snd_max < end {
            // The resend carried something never sent before (a FIN queued meanwhile): it
            // is sent now, and SND.NXT follows if it stood at SND.MAX.
            if self.snd_nxt == self.snd_max {
                self.snd_nxt = end;
            }
            self.snd_max = end;
        }
        n
    }

    /// A retransmission in loss recovery: sent, and remembered with SND.MAX so that its own
    /// loss can be found (see [`RetransmitMarks`]).
    fn retransmit_marked(&mut self, ctx: &mut Ctx<'_>, seq: Seq, max_len: usize) -> usize {
        let n = self.retransmit(ctx, seq, max_len);
        self.retransmits.record(seq, seq + n, self.snd_max);
        n
    }

    /// Where NextSeg's rescue retransmission (RFC 6675 § 4 rule 4) starts: the last SMSS of
    /// the window, if it lies above both HighRxt and every SACKed octet (the lost end of the
    /// window, which no duplicate ACK can show lost). It must include the highest unSACKed
    /// octet, SND.MAX − 1; resending octets already resent in this recovery, or a tail below
    /// SACKed data (rule 3's business), would rescue nothing.
    fn rescue_start(&self, high_rxt: Seq, smss: usize) -> Option<Seq> {
        self.scoreboard
            .last_unsacked(high_rxt.max(self.snd_una), self.snd_max, smss)
            .filter(|&(_, end)| end == self.snd_max)
            .map(|(from, _)| from)
    }

    /// RFC 6675 `SetPipe`: octets believed in the network.
    fn pipe(&self, high_rxt: Seq) -> usize {
        let lost = self
            .scoreboard
            .lost_below(self.smss())
            .unwrap_or(self.snd_una)
            .max(self.snd_una);
        self.scoreboard.unsacked_between(lost, self.snd_max)
            + self
                .scoreboard
                .unsacked_between(self.snd_una, high_rxt.max(self.snd_una))
    }

    /// Everything that can be sent now.
    pub(crate) fn output(&mut self, ctx: &mut Ctx<'_>) {
        match self.state {
            TcpState::Closed | TcpState::Listen => return,
            TcpState::SynSent | TcpState::SynReceived => {
                if self.snd_nxt == self.iss {
                    let f = if self.state == TcpState::SynSent {
                        TcpFlags::SYN
                    } else {
                        flags(&[TcpFlags::SYN, TcpFlags::ACK])
                    };
                    self.emit(ctx, self.iss, f, 0..0);
                    if self.rtt.backoffs == 0 && self.rtt_timing.is_none() {
                        self.rtt_timing = Some((self.iss, ctx.now));
                    }
                    self.snd_nxt = self.iss + 1u32;
                    self.snd_max = self.snd_max.max(self.snd_nxt);
                    if self.retransmit_at.is_none() {
                        self.retransmit_at = Some(ctx.now + self.rtt.rto());
                    }
                }
                if self.ack_now && self.state == TcpState::SynReceived {
                    self.emit(ctx, self.snd_nxt, TcpFlags::ACK, 0..0);
                }
                self.ack_now = false;
                return;
            }
            _ => {}
        }
        let smss = self.smss();
        let snd_max_before = self.snd_max;
        if let (true, Some(mut rec)) = (self.sack, self.cc.recovery) {
            // RFC 6675 § 5 step (C): send while cwnd − pipe ≥ 1 SMSS.
            for _ in 0..1024 {
                if self.cc.cwnd < self.pipe(rec.high_rxt) + smss {
                    break;
                }
                let mut s = rec.high_rxt.max(self.snd_una);
                while let Some(end) = self.scoreboard.sacked_at(s) {
                    s = end;
                }
                let lost = self.scoreboard.lost_below(smss).is_some_and(|l| s < l);
                let below_high = self.scoreboard.highest().is_some_and(|h| s < h);
                let new_data_ready = self.snd_nxt == self.snd_max
                    && self.send_seq + self.send.len() > self.snd_nxt
                    && (self.snd_una + self.snd_wnd) > self.snd_nxt;
                if s < self.snd_max && (lost || (!new_data_ready && below_high)) {
                    // Rules 1 and 3: a hole.
                    let limit = self.scoreboard.unsacked_run(s, smss);
                    let n = self.retransmit_marked(ctx, s, limit);
                    if n == 0 {
                        break;
                    }
                    rec.high_rxt = s + n;
                    self.cc.recovery = Some(rec);
                } else if new_data_ready {
                    // Rule 2: new data.
                    let room = (self.snd_una + self.snd_wnd) - self.snd_nxt;
                    let n = self.transmit(ctx, self.snd_nxt, smss.min(room));
                    if n == 0 {
                        break;
                    }
                    self.snd_nxt += n;
                    self.snd_max = self.snd_max.max(self.snd_nxt);
                } else if let (true, Some(from)) = (
                    rec.rescue_rxt.is_none_or(|r| self.snd_una > r),
                    self.rescue_start(rec.high_rxt, smss),
                ) {
                    // Rule 4: no hole deemed lost, no new data, no other hole; once per
                    // recovery, a "rescue" retransmission of the highest unSACKed segment
                    // keeps the ACK clock going when the end of the window was lost.
                    // HighRxt stays where it is.
                    let n = self.retransmit_marked(ctx, from, self.snd_max - from);
                    if n == 0 {
                        break;
                    }
                    rec.rescue_rxt = Some(rec.recover);
                    self.cc.recovery = Some(rec);
                } else {
                    break;
                }
            }
        } else {
            self.output_data(ctx, false);
        }
        if self.snd_max > snd_max_before {
            self.arm_tail_loss_probe(ctx);
        }
        if self.ack_now {
            let seq = self.bare_ack_seq();
            self.emit(ctx, seq, TcpFlags::ACK, 0..0);
        }
        self.arm_persist(ctx);
    }

    /// New data (and go-back-N retransmission after a timeout), with Nagle [RFC 896,
    /// RFC 1122 § 4.2.3.4] and sender SWS avoidance [RFC 9293 § 3.8.6.2.1]. `force` is the
    /// SWS override timer.
    fn output_data(&mut self, ctx: &mut Ctx<'_>, force: bool) {
        let smss = self.smss();
        if self
            .pmtu_resend_from
            .is_some_and(|from| self.snd_una > from)
        {
            self.pmtu_resend_from = None;
        }
        for _ in 0..100_000 {
            if self.pmtu_resend_from.is_some() && self.snd_nxt > self.snd_una {
                break; // one resent segment until the next ACK [RFC 1191 § 6.4]
            }
            if self.snd_nxt < self.snd_max {
                if let Some(end) = self.scoreboard.sacked_at(self.snd_nxt) {
                    self.snd_nxt = end;
                    continue;
                }
            }
            let offset = self.snd_nxt - self.send_seq;
            let avail = self.send.len().saturating_sub(offset);
            // Limited Transmit [RFC 3042; RFC 5681 § 3.2]: the first and second duplicate
            // ACKs each let one segment of new data go beyond cwnd, so that a loss in a
            // small window still draws the duplicate ACKs fast retransmit needs.
            let limited_transmit = if self.cc.recovery.is_none()
                && (1..DUP_THRESH).contains(&self.cc.dup_acks)
                && self.snd_nxt == self.snd_max
            {
                self.cc.dup_acks as usize * smss
            } else {
                0
            };
            let limit = self.snd_wnd.min(self.cc.cwnd + limited_transmit);
            let usable = (self.snd_una + limit) - self.snd_nxt;
            let mut len = avail.min(usable).min(smss);
            let retransmitting = self.snd_nxt < self.snd_max;
            if retransmitting {
                len = self.scoreboard.unsacked_run(self.snd_nxt, len);
            }
            // A FIN goes the first time whatever the window (as BSD sends it), but goes
            // again only inside the window: beyond a shut one, the retransmission timer's
            // probe resends it, and it goes at once when the window opens (it went again
            // with every timeout's probe, twice, and then waited for the next timeout).
            let fin_now = self.fin_queued
                && !self.fin_acked
                && self.snd_nxt + len == self.fin_seq()
                && self.snd_nxt <= self.fin_seq()
                && (self.snd_max <= self.fin_seq() || self.fin_seq() < self.snd_una + self.snd_wnd);
            if len == 0 && !fin_now {
                break;
            }
            if len > 0 && len < smss && !retransmitting && !force {
                let all_queued = len == avail;
                let urgent_pending = self.snd_up.is_some_and(|up| up > self.snd_nxt);
                let nagle_holds =
                    !self.nodelay && self.snd_max > self.snd_una && !fin_now && !urgent_pending;
                if all_queued && nagle_holds {
                    break;
                }
                if !all_queued && len < self.max_snd_wnd / 2 {
                    break; // SWS: wait for a bigger window (the persist timer overrides)
                }
            }
            if self.snd_nxt == self.snd_max && self.rtt_timing.is_none() && len > 0 {
                self.rtt_timing = Some((self.snd_nxt, ctx.now));
            }
            if retransmitting {
                ctx.stats.retransmits += 1;
            }
            let n = self.transmit(ctx, self.snd_nxt, len);
            if n == 0 {
                break;
            }
            if limited_transmit > 0 {
                // What went beyond cwnd, to leave out of FlightSize at fast retransmit.
                let cwnd_edge = self.snd_una + self.cc.cwnd;
                let end = self.snd_nxt + n;
                if end > cwnd_edge {
                    self.cc.limited_transmit_sent += end - self.snd_nxt.max(cwnd_edge);
                }
            }
            self.snd_nxt += n;
            self.snd_max = self.snd_max.max(self.snd_nxt);
            if force {
                break;
            }
        }
    }

    /// Arms the persist timer when data waits for a window that is closed (or too small to
    /// send into) and nothing is in flight to bring an update [RFC 9293 § 3.8.6.1].
    fn arm_persist(&mut self, ctx: &mut Ctx<'_>) {
        let waiting = self.send_seq + self.send.len() > self.snd_nxt;
        if waiting && self.snd_max == self.snd_una && self.retransmit_at.is_none() {
            if self.persist_at.is_none() {
                let d = self
                    .rtt
                    .rto()
                    .as_micros()
                    .checked_shl(self.persist_backoff.min(16))
                    .unwrap_or(u64::MAX)
                    .min(MAX_RTO.as_micros());
                self.persist_at = Some(ctx.now + Duration::from_micros(d));
            }
        } else {
            self.persist_at = None;
        }
    }

    // ---------------------------------------------------------------- timers

    fn keepalive_deadline(&self) -> Option<Instant> {
        let k = self.keepalive?;
        if !matches!(self.state, TcpState::Established | TcpState::CloseWait)
            || self.snd_max != self.snd_una
        {
            return None;
        }
        // The first probe after `idle` without a segment, each further one `interval` after
        // the one before (not after the last segment: keep-alive turned on for a connection
        // idle for hours must not send its probes in a burst).
        Some(match self.keepalive_probed_at {
            None => self.last_received + k.idle,
            Some(probed) => probed + k.interval,
        })
    }

    /// Turns keep-alive on (with this timing) or off; the probe count starts again.
    pub(crate) fn set_keepalive(&mut self, timing: Option<KeepAlive>) {
        self.keepalive = timing;
        self.keepalive_probes = 0;
        self.keepalive_probed_at = None;
    }

    /// The earliest instant a timer of this connection fires.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        [
            self.retransmit_at,
            self.tlp_at,
            self.persist_at,
            self.delayed_ack_at,
            self.time_wait_at,
            self.keepalive_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Whether the delayed ACK is due by `now` (and not yet listed for sending).
    pub(crate) fn ack_due(&self, now: Instant) -> bool {
        !self.ack_listed && self.delayed_ack_at.is_some_and(|t| t <= now)
    }

    /// Turns a delayed ACK due by `now` into an ACK to send now.
    fn take_due_ack(&mut self, now: Instant) {
        if self.delayed_ack_at.is_some_and(|t| t <= now) {
            self.delayed_ack_at = None;
            self.ack_now = true;
        }
    }

    /// Sends the delayed ACK if it is due by `ctx.now` (and was not sent with something
    /// else meanwhile): the end of a batch of received segments.
    pub(crate) fn send_due_ack(&mut self, ctx: &mut Ctx<'_>) {
        self.ack_listed = false;
        self.take_due_ack(ctx.now);
        if self.ack_now {
            self.output(ctx);
        }
    }

    /// Before an ACK goes out: when it ends a batch (the one before it did too) that
    /// brought fewer than [`SMALL_BATCH`] full segments, the sender's flight is small, and
    /// one ACK per batch would leave it few ACKs to grow its window by and to survive the
    /// loss of one: quick ACKs again.
    fn count_batch(&mut self) {
        if self.quick_acks > 0 {
            self.batch_acking = false;
            return;
        }
        let rmss = self.rmss();
        let small = (2 * rmss..SMALL_BATCH * rmss).contains(&self.unacked_bytes);
        if self.batch_acking && small {
            self.quick_acks = QUICK_ACKS;
            self.batch_acking = false;
        } else {
            self.batch_acking = true;
        }
    }

    /// Runs the timers due at `ctx.now`.
    pub(crate) fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        if self.time_wait_at.is_some_and(|t| t <= now) {
            self.time_wait_at = None;
            self.enter_closed(ctx);
            return;
        }
        if self.retransmit_at.is_some_and(|t| t <= now) {
            self.retransmit_at = None;
            self.on_retransmit_timeout(ctx);
            if self.state == TcpState::Closed {
                return;
            }
        }
        if self.tlp_at.is_some_and(|t| t <= now) {
            self.tlp_at = None;
            self.send_tail_loss_probe(ctx);
        }
        if self.persist_at.is_some_and(|t| t <= now) {
            self.persist_at = None;
            self.on_persist(ctx);
            if self.state == TcpState::Closed {
                return;
            }
        }
        self.take_due_ack(now);
        if self.keepalive_deadline().is_some_and(|t| t <= now) {
            let count = self.keepalive.map_or(0, |k| k.count);
            if self.keepalive_probes >= count {
                self.fail(ctx, TcpError::TimedOut);
                return;
            }
            self.keepalive_probes += 1;
            self.keepalive_probed_at = Some(now);
            ctx.stats.keepalives_sent += 1;
            // RFC 1122 § 4.2.3.6: SEG.SEQ = SND.NXT − 1, no data.
            let seq = Seq(self.snd_nxt.0.wrapping_sub(1));
            self.emit(ctx, seq, TcpFlags::ACK, 0..0);
        }
        self.output(ctx);
    }

    /// The retransmission timer expired [RFC 6298 § 5.4–5.6, RFC 5681 § 3.1, RFC 9293 § 3.8.3
    /// (user timeout; SYN retries)].
    fn on_retransmit_timeout(&mut self, ctx: &mut Ctx<'_>) {
        let since = self.unacked_since.unwrap_or(ctx.now);
        let timed_out = ctx.now.saturating_duration_since(since) >= self.user_timeout;
        match self.state {
            TcpState::SynSent | TcpState::SynReceived => {
                // An active open keeps retransmitting its SYN for at least 3 minutes
                // [RFC 9293 § 3.8.3 MUST-23, RFC 1122 § 4.2.3.5]: the retry count gives up
                // no sooner than that (the user timeout, which the application sets, still
                // applies).
                let retries_spent = self.rtt.backoffs >= ctx.config.syn_retries
                    && (self.state == TcpState::SynReceived
                        || ctx.now.saturating_duration_since(since) >= SYN_SENT_MIN_DURATION);
                if retries_spent || timed_out {
                    self.fail(ctx, TcpError::TimedOut);
                    return;
                }
                self.rtt.back_off();
                self.rtt_timing = None;
                self.snd_nxt = self.iss;
                ctx.stats.retransmits += 1;
            }
            _ => {
                if self.snd_una == self.snd_max {
                    return;
                }
                if self.snd_wnd == 0 {
                    // The peer shrank its window to zero with data outstanding: probe it by
                    // retransmitting the first unacknowledged octet, backing off, and give up
                    // only when probes go unanswered, never because data beyond the window
                    // edge stays unacknowledged [RFC 9293 § 3.8.6, MUST-35].
                    let since = *self.probe_unanswered_since.get_or_insert(ctx.now);
                    if ctx.now.saturating_duration_since(since) >= self.user_timeout {
                        self.fail(ctx, TcpError::TimedOut);
                        return;
                    }
                    ctx.stats.window_probes += 1;
                    self.rtt.back_off();
                    self.rtt_timing = None;
                    // What lay beyond the edge was dropped: it goes again from SND.UNA as
                    // soon as the window opens (BSD pulls SND.NXT back the same way).
                    self.snd_nxt = self.snd_una;
                    self.retransmit(ctx, self.snd_una, 1);
                    return;
                }
                if timed_out {
                    self.fail(ctx, TcpError::TimedOut);
                    return;
                }
                ctx.stats.timeouts += 1;
                self.cc.on_timeout(self.flight(), self.smss(), self.snd_max);
                // SACKed data may have been reneged: resend from SND.UNA as if nothing had
                // been SACKed (else a receiver that dropped it leaves the connection stalled).
                self.scoreboard.clear();
                self.retransmits.clear();
                self.tlp_at = None;
                self.tlp = None;
                self.rtt.back_off();
                self.rtt_timing = None;
                self.snd_nxt = self.snd_una;
            }
        }
    }

    /// The persist timer: a window probe if the window is zero, else the SWS override
    /// [RFC 9293 § 3.8.6.1, RFC 1122 § 4.2.2.17]. Probes go on as long as they are answered.
    fn on_persist(&mut self, ctx: &mut Ctx<'_>) {
        if self.send_seq + self.send.len() <= self.snd_nxt {
            return;
        }
        if self.snd_wnd == 0 {
            let since = *self.probe_unanswered_since.get_or_insert(ctx.now);
            if ctx.now.saturating_duration_since(since) >= self.user_timeout {
                self.fail(ctx, TcpError::TimedOut);
                return;
            }
            ctx.stats.window_probes += 1;
            // The probe carries the next octet of new data [RFC 9293 § 3.8.6.1, RFC 1122
            // § 4.2.2.17]: a receiver whose window is still zero drops it and answers with
            // its window; one whose window opened takes it. It is not counted as sent (no
            // retransmission timer, no congestion response), so only the persist timer and
            // its backoff govern probing.
            let offset = self.snd_nxt - self.send_seq;
            let len = 1.min(self.send.len().saturating_sub(offset));
            let mut flags = TcpFlags::ACK.0;
            if offset + len == self.send.len() {
                flags |= TcpFlags::PSH.0;
            }
            self.emit(ctx, self.snd_nxt, TcpFlags(flags), offset..offset + len);
            self.window_probe_end = Some(self.snd_nxt + len);
            self.persist_backoff += 1;
        } else {
            self.output_data(ctx, true);
        }
    }

    // ---------------------------------------------------------------- ICMP

    /// Whether an ICMP error quoting sequence number `seq` can be about this connection
    /// [RFC 5927 § 4.1]: it must lie in SND.UNA..SND.MAX.
    pub(crate) fn icmp_seq_ok(&self, seq: Seq) -> bool {
        seq.in_range(self.snd_una, self.snd_max.max(self.snd_una + 1u32))
    }

    /// The path MTU is at most `mtu` (the interface's, lowered): later segments fit it.
    pub(crate) fn clamp_path_mtu(&mut self, mtu: u16) {
        let mss = usize::from(mtu).saturating_sub(40).max(MIN_MSS);
        self.pmtu_mss = self.pmtu_mss.min(mss);
    }

    /// Fragmentation needed: lower the path MTU [RFC 1191 § 6.3] and resend at once, one
    /// segment until an ACK arrives [RFC 1191 § 6.4].
    pub(crate) fn lower_path_mtu(&mut self, ctx: &mut Ctx<'_>, mtu: u16) {
        let before = self.pmtu_mss;
        self.clamp_path_mtu(mtu);
        if self.pmtu_mss < before {
            ctx.stats.path_mtu_updates += 1;
            if self.synchronized() {
                self.snd_nxt = self.snd_una;
                self.pmtu_resend_from = Some(self.snd_una);
                self.output(ctx);
            }
        }
    }

    // ---------------------------------------------------------------- introspection

    pub(crate) fn check_invariants(&self) {
        assert!(self.send.len() <= self.send.capacity());
        self.recv.check_invariants();
        self.scoreboard.check_invariants();
        self.retransmits.check_invariants();
        assert!(self.snd_una <= self.snd_nxt && self.snd_nxt <= self.snd_max);
    }

    pub(crate) fn info(&self) -> super::TcpInfo {
        super::TcpInfo {
            state: self.state,
            local: self.local,
            remote: self.remote,
            send_mss: self.smss(),
            cwnd: self.cc.cwnd,
            ssthresh: self.cc.ssthresh,
            send_window: self.snd_wnd,
            rto: self.rtt.rto(),
            srtt: self.rtt.srtt(),
            window_scaling: self.window_scaling,
            timestamps: self.timestamps,
            sack: self.sack,
            unacknowledged: self.flight(),
            send_queued: self.send.len(),
            readable: self.recv.len(),
            in_recovery: self.cc.recovery.is_some(),
            receive_buffer: self.recv.capacity(),
        }
    }
}
