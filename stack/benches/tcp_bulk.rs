//! Bulk TCP transfer between two stacks in memory, wirecheck-stack and smoltcp 0.14 side by
//! side, wired the same way: two nodes, Ethernet frames handed over in memory (after a fixed
//! link delay, with seeded loss), virtual time advanced to the next frame or timer whenever
//! nothing else can happen, the application writing as much as fits and reading everything
//! after every step. Same buffer sizes (256 KiB each way), defaults otherwise.
//!
//! - `bulk/…`: 256 MiB, no loss, no delay — CPU cost per byte (criterion throughput);
//! - `loss1/…`: 16 MiB at 1 % frame loss with a 1 ms link delay — wall-clock cost, and the
//!   virtual-time goodput is printed once per stack.
//!
//! `cargo bench -p wirecheck-stack --bench tcp_bulk`
//!
//! The stream is a prime-period pattern. Before anything is timed, each stack carries 16 MiB
//! with every received octet checked against it, without and with loss; the timed runs only
//! count what they receive (`TCP_BULK_VERIFY=1` checks a one-shot run too).
//!
//! Both harnesses reuse frame buffers (wirecheck: `recycle_buffer`; smoltcp: a shared pool
//! its tokens draw from), both stacks compute and verify every checksum, MSS 1460 less
//! options on both sides.
//!
//! First measurement (2 shared cores, criterion medians): bulk 256 MiB — wirecheck 425 ms,
//! smoltcp 96 ms (0.22×); per-segment allocation, zero-filling and four copies in the output
//! path, headers parsed twice.
//!
//! After the single-buffer output path (one run, 2 cores under load from other jobs, so
//! compare within the run): bulk — wirecheck 220 ms, smoltcp 123 ms (0.56×); 1 % loss,
//! 16 MiB — wirecheck 8.4 ms, smoltcp 8.7 ms wall clock (1.04×), and in virtual time
//! 34.0 Mbit/s against 8.2 Mbit/s (4.1×).
//!
//! After one checksum routine (the codec's; the stack's own stalled on store forwarding for
//! short slices), header checksums summed from field values, ACKs at the end of a batch of
//! received frames (with quick ACKs at the start, after out-of-order data and for small
//! flights), and no per-call allocation in the connection glue (one loaded run): bulk —
//! wirecheck 87 ms, smoltcp 93 ms (1.07×; minimum CPU time over 10 alternating single runs:
//! 73.8 ms against 73.2 ms, where the previous state measured 100.8 ms against 70.3 ms);
//! 1 % loss — 8.7 ms against 7.1 ms wall clock in that run (noisy: minimum CPU time over 15
//! runs 7.5 ms against 8.2 ms, 1.09×), and in virtual time 63.2 Mbit/s against 8.2 Mbit/s.
//! The receiver now sends 4.2k ACKs for 186k data segments (smoltcp: 3.1k) instead of 96k.
//!
//! Instruction counts (`TCP_BULK_ONE=… valgrind --tool=callgrind`, 16 MiB, no loss) are the
//! noise-free anchor on a shared machine: wirecheck 92.95 M (5.81 M/MiB) against smoltcp
//! 84.32 M (5.27 M/MiB) before the checksum lanes without a mask and the remembered route
//! and next hop, 82.60 M (5.16 M/MiB) after. About 33.4 M of either is the application's
//! 64 KiB copies in and out, which valgrind counts one instruction per octet (`rep movsb`)
//! although they cost far less time. 1 % loss: 105.4 M against 116.1 M. Time did not follow
//! the instruction counts as closely: minimum CPU time over 15 alternating 256 MiB runs,
//! 83.9 ms (85.9 ms before) against smoltcp's 76.7 ms; one loaded criterion run, bulk 104 ms
//! against 80 ms (wide spread, 93–111 ms), 1 % loss 8.4 ms against 8.7 ms.
//!
//! Issue #7 (goal 1.5× smoltcp), from 83.41 M instructions (no loss; 102.33 M at 1 % loss)
//! at this branch's base: an IP input fast path (a TCP segment without IP options or
//! fragmentation between addresses the general path last accepted, for an existing
//! connection, skips the header structure and the address classification), header
//! prediction on the receive side (the next in-order data segment acknowledging nothing new
//! skips the general arrival checks and the output pass), the TCP header written straight
//! into the frame, and three store-forwarding stalls found with `perf annotate` removed (a
//! connection's output carried its addresses in a structure read back across two 16-octet
//! stores; the decoded segment was copied back from narrow stores twice). Instructions, 16
//! MiB: wirecheck 74.80 M against smoltcp 84.32 M (1.13×); 1 % loss 92.34 M against
//! 116.09 M (1.26×; the same transfer as before, 26.1 Mbit/s virtual goodput against 8.2).
//! Minimum CPU time over 15 alternating runs (two sets): 256 MiB 60.3 ms against 70.1 ms
//! (1.16×) and 60.6 against 72.9 ms (1.20×); 16 MiB at 1 % loss 6.8 against 9.0 ms (1.32×)
//! and 6.8 against 9.5 ms (1.40×). Criterion, two runs with a load average of 3–5 on the 2
//! cores, too noisy to rank: bulk 76.4 against 74.5 ms (0.98×), then 81.6 against 93.0 ms
//! (1.14×); loss1 5.6 against 9.6 ms (1.71×), then 8.2 against 7.7 ms (0.94×).
//!
//! Where the 74.80 M go: 33.39 M are the application's copies in and out (the same for
//! both), 17.75 M the payload's checksums and copies (9.11 M summed while copied into the
//! frame, 6.11 M verified on input, 2.53 M copied into the receive ring), 23.66 M the rest,
//! about 2000 instructions per data segment for both ends and the harness together. 1.5×
//! in instructions would take wirecheck to 56.2 M, its own work to 22.8 M: barely more than
//! the checksums and copies take now, out of reach without touching each payload octet less.
//!
//!
//! After the SACK and Limited Transmit fixes (a duplicate ACK under SACK is one that SACKs new
//! data, whatever its window, RFC 6675 § 2; Limited Transmit, RFC 3042; the first hole resent
//! at once on entering recovery, RFC 6675 § 5): 75.05 M instructions without loss and 92.84 M
//! at 1 % loss, against smoltcp's 84.32 M and 116.09 M (1.12×, 1.25×). Goodput at 1 % loss
//! depends strongly on where the losses fall (a lost retransmission costs a 1 s timeout):
//! over loss seeds 1–8, 22.4 14.2 26.2 32.4 32.4 21.0 16.1 22.1 Mbit/s (mean 23.4); the
//! default seed gives 29.3 (`TCP_BULK_SEED=N TCP_BULK_ONE=… TCP_BULK_LOSS=0.01`). (This note
//! first said smoltcp made 8.2 on each seed; 8.2 is its default-seed figure only, see below.)
//!
//! Issue #7, third round (from 75.15 M without loss and 92.83 M at 1 % loss, wirecheck,
//! against smoltcp's 85.29 M and 117.95 M measured in the same environment; smoltcp's counts
//! here are 1–2 % above the 84.32 M and 116.09 M quoted above, for reasons not looked into,
//! toolchain or C library):
//! the payload is copied into the frame with the library's copy and then summed in place
//! rather than summed while copied (the checksum loop may use only the baseline's 16-octet
//! registers, the library's copy picks 32- or 64-octet ones at run time, and the frame is
//! summed while in the first-level cache), and a long slice's sum is taken in one part with
//! its tail 16 octets at a time. Instructions, 16 MiB: 73.96 M against 85.29 M (1.15×, from
//! 1.13×); 1 % loss 91.51 M against 117.95 M (1.29×, from 1.27×; the same transfer, 29.3
//! Mbit/s virtual goodput against 8.2). CPU time did not move: minimum over 30 alternating
//! 256 MiB runs (load average 2.5 on the 2 cores), 66.0 ms against the previous state's
//! 65.6 ms and smoltcp's 78.0 ms (1.18×; medians 85.3, 83.7 and 99.7 ms); 16 MiB at 1 %
//! loss over 20 runs, 7.1 against 7.0 and 9.3 ms (1.31×). No criterion run: the machine was
//! not quiet. Tried and left out: verifying a received segment's checksum while copying its
//! payload into the receive ring (header prediction decided before the checksum, the octets
//! staged in the ring's free space and committed once the sum checks out) cost 1.7 M more
//! instructions (a summing copy runs 16 octets per step where the library's copy runs 32 or
//! 64), for at most a few per cent of CPU time, within the noise; a copying sum with its
//! tail copied by overlapping the last block, or in one part, compiled to more instructions,
//! not fewer. What is left (per 16 MiB): 33.4 M of application copies (the same for both),
//! 12.4 M of checksums (about 0.37 instructions per octet against the 0.25 of the vectorised
//! loop's body, which with 16-octet registers has little left to lose), 4.4 M of payload
//! copies (into the frame and into the receive ring), and about 23.7 M of per-segment work
//! spread thinly over some twenty functions (about 2000 instructions per data segment for
//! both ends and the harness together, no function over 240 of them). 1.5× smoltcp (56.9 M)
//! would leave wirecheck 23.5 M of its own, less than the per-segment work alone: out of
//! reach without a different per-segment design (a header template per connection, segments
//! built in batches) or a checksum wider than the baseline allows.
//!
//! Loss recovery round (issue #7's pick-ups). At 1 % loss almost all of the transfer time
//! was a few 1 s retransmission timeouts, and each had one of three causes: a retransmission
//! lost in recovery, which RFC 6675 never finds again; an ACK that advanced SND.UNA while its
//! SACK blocks showed the next segment lost, which RFC 6675 does not look at when the
//! receiver acknowledges a batch with one ACK and that ACK was the only one; and a lost tail
//! whose ACKs were lost too. Now a retransmission overtaken by more than 2·SMSS of data sent
//! after it is resent (cwnd halved once per round trip), such an advancing ACK starts
//! recovery, and tail loss probes (RFC 8985 § 7) replace most of the remaining timeouts; the
//! same round made Limited Transmit's segments leave FlightSize alone at fast retransmit
//! (RFC 5681 § 3.2), which lowers ssthresh a little. Virtual-time goodput, 16 MiB at 1 %
//! loss, one run per seed, every octet checked (`TCP_BULK_VERIFY=1`):
//!
//! | seed | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | mean | default |
//! |---|---|---|---|---|---|---|---|---|---|---|
//! | wirecheck before | 22.4 | 14.2 | 26.2 | 32.4 | 32.4 | 21.0 | 16.1 | 22.1 | 23.4 | 29.3 |
//! | wirecheck now | 62.7 | 38.1 | 31.1 | 63.9 | 27.1 | 39.8 | 54.1 | 25.4 | 42.8 | 55.8 |
//! | smoltcp | 18.2 | 11.7 | 21.0 | 18.3 | 18.2 | 14.3 | 9.3 | 24.8 | 16.9 | 8.2 |
//!
//! (Mbit/s.) Against smoltcp: 2.5× on the mean of seeds 1–8 (1.4× before), 6.8× on the
//! default seed (3.6× before). Where a seed still loses time, it is mostly to a timeout in
//! recovery when the last ACK of a flight is lost and nothing else is in flight: no ACK comes
//! to detect anything from, and TLP is not used in recovery (RFC 8985 § 7.2), so only the
//! retransmission timer is left. Instructions, 16 MiB (callgrind): no loss
//! 74.83 M against smoltcp's 85.07 M (1.14× fewer; 74.66 M before the round); 1 % loss,
//! default seed, 92.56 M against 116.86 M (1.26× fewer, a different transfer now). One
//! criterion run (load average about 1 on the 2 cores): bulk 256 MiB 79.9 against 97.1 ms
//! (1.22×), loss1 7.83 against 9.25 ms wall clock (1.18×).
//!
//! Issue #7, fourth round: a leaner per-segment path. The Ethernet and IPv4 headers come
//! from a template kept with the remembered route (length, identification and checksum
//! patched), checked once per batch of segments rather than per segment; a segment whose
//! only option is Timestamps is written from a per-connection TCP template; one connection
//! lookup per received segment instead of two; the receive chain and the driver's calls
//! inlined; a link-layer shortcut for an untagged IPv4 frame to our own address; the
//! checksum's lanes reduced in 32 bits for a part of up to 2048 blocks and its tail summed
//! as one masked block. Instructions, 16 MiB: 65.78 M against smoltcp's 85.06 M (1.29×
//! fewer, from 1.14×); 1 % loss 80.95 M against 116.85 M (1.44×, from 1.26×; the same
//! transfer: 55.8 Mbit/s of virtual goodput against 8.2; D-SACK, new in the same round,
//! changed no seed's goodput). Time is noisier than ever on this shared machine: one full
//! criterion run (load average about 2) gave bulk 55.4 against 84.4 ms (1.52×) and loss1
//! 5.70 against 10.20 ms (1.79×); five more bulk runs 1.23, 1.48, 1.24, 1.51 and 1.36×; 20
//! alternating 2 GiB runs (CPU time) 0.42 against 0.64 s at best (1.52×), medians 0.53
//! against 0.71 s (1.34×), median of the pairwise ratios 1.40×. So about 1.4×: the 1.5×
//! goal is reached in some runs, not steadily. A `perf` profile now splits wirecheck's time
//! into the C library's memmove 40 %, the checksum 26 % (the receive side's two-thirds of
//! it, its frames read from the second-level cache) and per-segment work 34 %. Tried and
//! left out: queueing a large write 4 or 16 KiB at a time and sending the segments each
//! piece completes before copying the next (so frames copy from the first-level cache):
//! 3–10 % fewer simulated first-level misses (cachegrind) but no faster (2 GiB medians 0.45
//! against 0.42 s), and it would have lowered callgrind's count for the wrong reason
//! (valgrind counts the 64 KiB copies' `rep movsb` one instruction per octet, smaller
//! copies go through vector loops).
//!
//! The same code on a new machine (2026-12-04: 2-core AMD EPYC, Zen 5, under KVM, quiet,
//! load average below 1), where time is steady: five full criterion runs, bulk 256 MiB
//! 27.6 / 27.8 / 27.2 / 27.2 / 26.4 ms against smoltcp's 46.7 / 46.4 / 45.7 / 44.8 / 45.6 ms
//! (1.69, 1.67, 1.68, 1.65 and 1.72×; the last with a busy loop on the other core), loss1
//! 2.60 / 2.53 / 2.51 / 2.52 ms against 4.47 / 4.53 / 4.57 / 4.45 ms (1.72–1.82×); six
//! alternating 2 GiB runs, CPU time 0.22 against 0.37 s each time (1.68×). Instruction counts
//! are unchanged (65.78 M against 85.06 M). A `perf` profile splits wirecheck's time as
//! before: the C library's memmove (its AVX-512 variant here) 35 %, the checksum 30 %,
//! per-segment work 35 %. So the 1.5× goal holds here with margin; on the previous shared
//! machine the same code measured about 1.4×, which says how much such ratios move with the
//! machine and its load.
//!
//! After the same session's TCP fixes (pure ACKs at SND.MAX within the peer's window, the
//! window taken from any ACK that advances SND.UNA, the simultaneous-open and edge-ACK
//! widenings, the invalid-ACK rate limit): 65.93 M instructions without loss and 81.66 M at
//! 1 % loss (against 85.06 M and 116.85 M: 1.29× and 1.43× fewer); three full criterion
//! runs, bulk 27.9 / 28.8 / 27.7 ms against 45.0 / 46.5 / 46.2 ms (1.61, 1.61, 1.67×), loss1
//! 2.53 / 2.60 / 2.57 ms against 4.62 / 4.76 / 4.62 ms (1.83, 1.83, 1.80×); goodput at 1 %
//! loss unchanged on every seed.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};

use criterion::{criterion_group, Criterion, Throughput};

const BUFFER: usize = 256 * 1024;
const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];

/// xorshift64*: the loss draw, identical for both stacks.
struct Loss {
    state: u64,
    rate: f64,
}

/// The loss draw's seed: `TCP_BULK_SEED` (a number; a zero is taken as the default), else a
/// fixed default. Where the losses fall decides how many timeouts a transfer takes, so
/// goodput at 1 % loss is best compared over several seeds.
fn loss_seed() -> u64 {
    std::env::var("TCP_BULK_SEED")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&s| s != 0)
        .unwrap_or(0x9e37_79b9_7f4a_7c15)
}

impl Loss {
    fn lose(&mut self) -> bool {
        if self.rate <= 0.0 {
            return false;
        }
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let x = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        ((x >> 11) as f64 / (1u64 << 53) as f64) < self.rate
    }
}

/// The byte stream sent: octet `p` of the stream is `p % PERIOD` (a prime period, so a
/// misplaced, lost or repeated stretch of any length shows). The application sends from
/// `pattern()[sent % PERIOD..]`, which costs the same as sending from a fixed buffer.
const PERIOD: usize = 251;

fn pattern() -> Vec<u8> {
    (0..64 * 1024 + PERIOD)
        .map(|i| (i % PERIOD) as u8)
        .collect()
}

/// Checks `got`, received at stream offset `at`, against the pattern: with `verify` set
/// (the checking runs, not the timed ones), a wrong octet panics with its offset.
fn check(verify: bool, data: &[u8], at: usize, got: &[u8]) {
    if verify {
        let want = &data[at % PERIOD..][..got.len()];
        if let Some(i) = want.iter().zip(got).position(|(w, g)| w != g) {
            panic!(
                "stream octet {} is {}, expected {}",
                at + i,
                got[i],
                want[i]
            );
        }
    }
}

/// One direction of the link: frames with their delivery time (FIFO, fixed delay).
type Link = VecDeque<(u64, Vec<u8>)>;

struct Outcome {
    bytes: usize,
    virtual_micros: u64,
}

// ---------------------------------------------------------------------------- wirecheck

mod ours {
    use super::*;
    use wirecheck_stack::{
        Config, Instant, InterfaceConfig, InterfaceId, Ipv4Cidr, MacAddr, Stack, StackError,
    };

    fn node(addr: [u8; 4], mac: u8, seed: u64) -> Stack {
        let mut c = Config::default().with_seed(seed);
        c.tcp.send_buffer = BUFFER;
        c.tcp.receive_buffer = BUFFER;
        c.max_transmit_queue = 4096;
        let mut s = Stack::new(c);
        s.add_interface(
            Instant::ZERO,
            InterfaceConfig::ethernet(
                MacAddr([2, 0, 0, 0, 0, mac]),
                Ipv4Cidr::new(Ipv4Addr::from(addr), 24),
            ),
        )
        .unwrap();
        s
    }

    pub fn run(total: usize, loss: f64, delay: u64, verify: bool) -> Outcome {
        let mut a = node(A, 1, 1);
        let mut b = node(B, 2, 2);
        let mut now = 0u64;
        let mut lose = Loss {
            state: loss_seed(),
            rate: loss,
        };
        let l = b
            .tcp_listen(SocketAddrV4::new(Ipv4Addr::from(B), 5001), 1)
            .unwrap();
        let c = a
            .tcp_connect(
                Instant::from_micros(now),
                SocketAddrV4::new(Ipv4Addr::from(B), 5001),
            )
            .unwrap();
        let data = pattern();
        let mut sent = 0usize;
        let mut received = 0usize;
        let mut server = None;
        let mut buf = vec![0u8; 64 * 1024];
        let (mut ab, mut ba): (Link, Link) = (VecDeque::new(), VecDeque::new());
        while received < total {
            let t = Instant::from_micros(now);
            let mut progress = false;
            while sent < total {
                let n = (total - sent).min(64 * 1024);
                match a.tcp_send(t, c, &data[sent % PERIOD..][..n]) {
                    Ok(0) => break,
                    Ok(k) => {
                        sent += k;
                        progress = true;
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }
            if server.is_none() {
                server = b.tcp_accept(l).unwrap().map(|x| x.0);
            }
            if let Some(h) = server {
                loop {
                    match b.tcp_recv(t, h, &mut buf) {
                        Ok(0) | Err(StackError::WouldBlock) => break,
                        Ok(n) => {
                            check(verify, &data, received, &buf[..n]);
                            received += n;
                            progress = true;
                        }
                        Err(e) => panic!("{e:?}"),
                    }
                }
            }
            while let Some(f) = a.poll_transmit() {
                if !lose.lose() {
                    ab.push_back((now + delay, f.bytes));
                }
            }
            while let Some(f) = b.poll_transmit() {
                if !lose.lose() {
                    ba.push_back((now + delay, f.bytes));
                }
            }
            while ab.front().is_some_and(|f| f.0 <= now) {
                let (_, f) = ab.pop_front().unwrap();
                b.handle_frame(t, InterfaceId(0), &f);
                a.recycle_buffer(f);
                progress = true;
            }
            while ba.front().is_some_and(|f| f.0 <= now) {
                let (_, f) = ba.pop_front().unwrap();
                a.handle_frame(t, InterfaceId(0), &f);
                b.recycle_buffer(f);
                progress = true;
            }
            while let Some(_e) = a.poll_event() {}
            while let Some(_e) = b.poll_event() {}
            if !progress {
                let next = [
                    ab.front().map(|f| f.0),
                    ba.front().map(|f| f.0),
                    a.poll_timeout().map(|t| t.as_micros()),
                    b.poll_timeout().map(|t| t.as_micros()),
                ]
                .into_iter()
                .flatten()
                .min()
                .expect("something pending");
                now = now.max(next);
                let t = Instant::from_micros(now);
                if a.poll_timeout().is_some_and(|d| d <= t) {
                    a.handle_timeout(t);
                }
                if b.poll_timeout().is_some_and(|d| d <= t) {
                    b.handle_timeout(t);
                }
            }
        }
        Outcome {
            bytes: received,
            virtual_micros: now,
        }
    }
}

// ---------------------------------------------------------------------------- smoltcp

mod smol {
    use super::*;
    use smoltcp::iface::{Config, Interface, SocketSet};
    use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
    use smoltcp::socket::tcp;
    use smoltcp::time::Instant;
    use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Frame buffers shared by both ends: a received frame's buffer is reused for a later
    /// transmission, as wirecheck's harness gives buffers back with `recycle_buffer`.
    type Pool = Rc<RefCell<Vec<Vec<u8>>>>;

    #[derive(Default)]
    pub struct Wire {
        rx: VecDeque<Vec<u8>>,
        tx: Vec<Vec<u8>>,
        pool: Pool,
    }

    pub struct Rx(Vec<u8>, Pool);
    pub struct Tx<'a>(&'a mut Vec<Vec<u8>>, Pool);

    impl RxToken for Rx {
        fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
            let r = f(&self.0);
            self.1.borrow_mut().push(self.0);
            r
        }
    }

    impl TxToken for Tx<'_> {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
            // A reused buffer is only zero-filled past its previous length.
            let mut v = self.1.borrow_mut().pop().unwrap_or_default();
            v.resize(len, 0);
            let r = f(&mut v);
            self.0.push(v);
            r
        }
    }

    impl Device for Wire {
        type RxToken<'a> = Rx;
        type TxToken<'a> = Tx<'a>;
        fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
            let f = self.rx.pop_front()?;
            Some((
                Rx(f, self.pool.clone()),
                Tx(&mut self.tx, self.pool.clone()),
            ))
        }
        fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
            Some(Tx(&mut self.tx, self.pool.clone()))
        }
        fn capabilities(&self) -> DeviceCapabilities {
            let mut caps = DeviceCapabilities::default();
            caps.medium = Medium::Ethernet;
            caps.max_transmission_unit = 1514;
            caps
        }
    }

    fn iface(addr: [u8; 4], mac: u8, dev: &mut Wire) -> Interface {
        let mut config = Config::new(EthernetAddress([2, 0, 0, 0, 0, mac]).into());
        config.random_seed = u64::from(mac);
        let mut i = Interface::new(config, dev, Instant::from_micros(0));
        i.update_ip_addrs(|a| {
            a.push(IpCidr::new(
                IpAddress::v4(addr[0], addr[1], addr[2], addr[3]),
                24,
            ))
            .unwrap();
        });
        i
    }

    pub fn run(total: usize, loss: f64, delay: u64, verify: bool) -> Outcome {
        let (mut da, mut db) = (Wire::default(), Wire::default());
        db.pool = da.pool.clone();
        let mut ia = iface(A, 1, &mut da);
        let mut ib = iface(B, 2, &mut db);
        let mut sa = SocketSet::new(vec![]);
        let mut sb = SocketSet::new(vec![]);
        let ca = sa.add(tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; BUFFER]),
            tcp::SocketBuffer::new(vec![0; BUFFER]),
        ));
        let cb = sb.add(tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; BUFFER]),
            tcp::SocketBuffer::new(vec![0; BUFFER]),
        ));
        sb.get_mut::<tcp::Socket>(cb).listen(5001).unwrap();
        sa.get_mut::<tcp::Socket>(ca)
            .connect(
                ia.context(),
                (IpAddress::v4(B[0], B[1], B[2], B[3]), 5001),
                49152,
            )
            .unwrap();
        let mut lose = Loss {
            state: loss_seed(),
            rate: loss,
        };
        let mut now = 0u64;
        let data = pattern();
        let mut sent = 0usize;
        let mut received = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        let (mut ab, mut ba): (Link, Link) = (VecDeque::new(), VecDeque::new());
        while received < total {
            let t = Instant::from_micros(now as i64);
            let mut progress = false;
            {
                let s = sa.get_mut::<tcp::Socket>(ca);
                while sent < total && s.can_send() {
                    let n = (total - sent).min(64 * 1024);
                    match s.send_slice(&data[sent % PERIOD..][..n]) {
                        Ok(0) => break,
                        Ok(k) => {
                            sent += k;
                            progress = true;
                        }
                        Err(e) => panic!("{e:?}"),
                    }
                }
            }
            {
                let s = sb.get_mut::<tcp::Socket>(cb);
                while s.can_recv() {
                    match s.recv_slice(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            check(verify, &data, received, &buf[..n]);
                            received += n;
                            progress = true;
                        }
                        Err(e) => panic!("{e:?}"),
                    }
                }
            }
            ia.poll(t, &mut da, &mut sa);
            ib.poll(t, &mut db, &mut sb);
            for f in da.tx.drain(..) {
                if !lose.lose() {
                    ab.push_back((now + delay, f));
                }
            }
            for f in db.tx.drain(..) {
                if !lose.lose() {
                    ba.push_back((now + delay, f));
                }
            }
            while ab.front().is_some_and(|f| f.0 <= now) {
                db.rx.push_back(ab.pop_front().unwrap().1);
                progress = true;
            }
            while ba.front().is_some_and(|f| f.0 <= now) {
                da.rx.push_back(ba.pop_front().unwrap().1);
                progress = true;
            }
            if !progress && da.rx.is_empty() && db.rx.is_empty() {
                let next = [
                    ab.front().map(|f| f.0),
                    ba.front().map(|f| f.0),
                    ia.poll_delay(t, &sa).map(|d| now + d.total_micros()),
                    ib.poll_delay(t, &sb).map(|d| now + d.total_micros()),
                ]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(now + 1000);
                now = now.max(next);
            }
        }
        Outcome {
            bytes: received,
            virtual_micros: now,
        }
    }
}

fn goodput(name: &str, o: &Outcome) {
    let secs = o.virtual_micros as f64 / 1e6;
    eprintln!(
        "{name}: {} bytes in {:.3} s of virtual time = {:.1} Mbit/s goodput",
        o.bytes,
        secs,
        o.bytes as f64 * 8.0 / secs / 1e6
    );
}

fn bench(c: &mut Criterion) {
    const BULK: usize = 256 << 20;
    const LOSSY: usize = 16 << 20;
    // Each stack first carries a checked stream, with and without loss: the timed runs that
    // follow do not look at what they receive.
    for loss in [0.0, 0.01] {
        let delay = if loss > 0.0 { 1000 } else { 0 };
        assert_eq!(ours::run(LOSSY, loss, delay, true).bytes, LOSSY);
        assert_eq!(smol::run(LOSSY, loss, delay, true).bytes, LOSSY);
    }
    let mut g = c.benchmark_group("bulk");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(BULK as u64));
    g.bench_function("wirecheck", |b| b.iter(|| ours::run(BULK, 0.0, 0, false)));
    g.bench_function("smoltcp", |b| b.iter(|| smol::run(BULK, 0.0, 0, false)));
    g.finish();

    goodput(
        "wirecheck 1% loss, 1 ms delay",
        &ours::run(LOSSY, 0.01, 1000, false),
    );
    goodput(
        "smoltcp 1% loss, 1 ms delay",
        &smol::run(LOSSY, 0.01, 1000, false),
    );
    let mut g = c.benchmark_group("loss1");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(LOSSY as u64));
    g.bench_function("wirecheck", |b| {
        b.iter(|| ours::run(LOSSY, 0.01, 1000, false))
    });
    g.bench_function("smoltcp", |b| {
        b.iter(|| smol::run(LOSSY, 0.01, 1000, false))
    });
    g.finish();
}

criterion_group!(benches, bench);

/// `TCP_BULK_ONE=wirecheck` (or `smoltcp`) runs one transfer of `TCP_BULK_MIB` MiB (16 by
/// default; `TCP_BULK_LOSS` frame loss, 0 by default, with a 1 ms delay when lossy, drawn
/// from `TCP_BULK_SEED`; with `TCP_BULK_VERIFY` set, every received octet is checked) for that
/// stack alone and exits: the run to count instructions of with
/// `valgrind --tool=callgrind`, where wall-clock time on a shared machine is too noisy.
fn main() {
    if let Ok(which) = std::env::var("TCP_BULK_ONE") {
        let env = |name: &str, default: f64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(default)
        };
        let total = (env("TCP_BULK_MIB", 16.0) * (1 << 20) as f64) as usize;
        let loss = env("TCP_BULK_LOSS", 0.0);
        let delay = if loss > 0.0 { 1000 } else { 0 };
        let verify = std::env::var_os("TCP_BULK_VERIFY").is_some();
        let outcome = match which.as_str() {
            "wirecheck" => ours::run(total, loss, delay, verify),
            "smoltcp" => smol::run(total, loss, delay, verify),
            other => panic!("TCP_BULK_ONE={other}: expected wirecheck or smoltcp"),
        };
        goodput(&which, &outcome);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
