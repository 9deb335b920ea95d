//! Congestion control: slow start and congestion avoidance [RFC 5681 § 3.1] with the initial
//! window of RFC 5681 § 3.1 (or IW10, RFC 6928), fast retransmit and NewReno fast recovery
//! [RFC 6582], and, when SACK was negotiated, the SACK scoreboard and the conservative
//! loss-recovery pipe of RFC 6675 (`IsLost`, `SetPipe`, `NextSeg`).

use super::seq::Seq;

/// DupThresh [RFC 5681 § 3.2, RFC 6675 § 2].
pub(crate) const DUP_THRESH: u32 = 3;

/// Most SACKed ranges remembered; further blocks are ignored (they only make recovery less
/// precise).
pub(crate) const MAX_SACKED: usize = 32;

/// What the receiver has selectively acknowledged above SND.UNA: sorted, disjoint ranges.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scoreboard {
    ranges: Vec<(Seq, Seq)>,
}

impl Scoreboard {
    /// Records a SACK block, if it lies within (SND.UNA, SND.MAX] [RFC 2018 § 3]; true if it
    /// SACKs octets not SACKed before.
    pub(crate) fn add(&mut self, left: Seq, right: Seq, snd_una: Seq, snd_max: Seq) -> bool {
        if !(snd_una < left && left < right && right <= snd_max) {
            return false;
        }
        if self.ranges.iter().any(|&(a, b)| a <= left && right <= b) {
            return false;
        }
        let (mut l, mut r) = (left, right);
        let mut kept = Vec::with_capacity(self.ranges.len() + 1);
        for &(a, b) in &self.ranges {
            if b < l || r < a {
                kept.push((a, b));
            } else {
                l = l.min(a);
                r = r.max(b);
            }
        }
        if kept.len() >= MAX_SACKED {
            return false;
        }
        let at = kept.iter().position(|&(a, _)| a > l).unwrap_or(kept.len());
        kept.insert(at, (l, r));
        self.ranges = kept;
        true
    }

    /// SND.UNA advanced: forget what it covers.
    pub(crate) fn ack(&mut self, snd_una: Seq) {
        self.ranges.retain(|&(_, b)| b > snd_una);
        if let Some(first) = self.ranges.first_mut() {
            first.0 = first.0.max(snd_una);
        }
    }

    /// Forgets every SACKed range. After a retransmission timeout the receiver may have
    /// discarded what it SACKed (reneging), so nothing is taken as delivered until it is
    /// cumulatively acknowledged [RFC 2018 § 8, RFC 6675 § 5.1].
    pub(crate) fn clear(&mut self) {
        self.ranges.clear();
    }

    /// The end of the SACKed range containing `seq`, if any.
    pub(crate) fn sacked_at(&self, seq: Seq) -> Option<Seq> {
        self.ranges
            .iter()
            .find(|&&(a, b)| seq.in_range(a, b))
            .map(|&(_, b)| b)
    }

    /// The start of the first SACKed range after `seq`, if any.
    pub(crate) fn next_sacked_after(&self, seq: Seq) -> Option<Seq> {
        self.ranges.iter().map(|&(a, _)| a).find(|&a| a > seq)
    }

    /// How much of a segment starting at `seq` (at most `max` octets) lies before the next
    /// SACKed range: what may be resent there without resending SACKed data.
    pub(crate) fn unsacked_run(&self, seq: Seq, max: usize) -> usize {
        self.next_sacked_after(seq)
            .map_or(max, |n| (n - seq).min(max))
    }

    /// The highest SACKed sequence number (HighACK's SACK counterpart).
    pub(crate) fn highest(&self) -> Option<Seq> {
        self.ranges.last().map(|&(_, b)| b)
    }

    /// Octets SACKed in `[lo, hi)`.
    fn sacked_between(&self, lo: Seq, hi: Seq) -> usize {
        self.ranges
            .iter()
            .map(|&(a, b)| {
                let (a, b) = (a.max(lo), b.min(hi));
                if a < b {
                    b - a
                } else {
                    0
                }
            })
            .sum()
    }

    /// The last octets not SACKed below `snd_max`, at most `max_len` of them and none below
    /// `snd_una`: where a tail loss probe that resends data starts (its end is the start of
    /// a SACKed range ending at `snd_max`, or `snd_max`). `None` if everything is SACKed.
    pub(crate) fn last_unsacked(
        &self,
        snd_una: Seq,
        snd_max: Seq,
        max_len: usize,
    ) -> Option<(Seq, Seq)> {
        let mut end = snd_max;
        if let Some(&(a, b)) = self.ranges.last() {
            if b == snd_max {
                end = a;
            }
        }
        if end <= snd_una {
            return None;
        }
        let mut from = Seq(end.0.wrapping_sub(max_len.min(end - snd_una) as u32));
        if let Some(b) = self
            .ranges
            .iter()
            .rev()
            .map(|&(_, b)| b)
            .find(|&b| b <= end)
        {
            from = from.max(b);
        }
        (from < end).then_some((from, end))
    }

    /// Octets SACKed at or above `seq`.
    pub(crate) fn sacked_from(&self, seq: Seq) -> usize {
        self.highest()
            .map_or(0, |high| self.sacked_between(seq, high))
    }

    /// Octets not SACKed in `[lo, hi)`.
    pub(crate) fn unsacked_between(&self, lo: Seq, hi: Seq) -> usize {
        if hi <= lo {
            return 0;
        }
        (hi - lo).saturating_sub(self.sacked_between(lo, hi))
    }

    /// Every unSACKed octet below the returned point is lost by `IsLost` [RFC 6675 § 4]:
    /// DupThresh discontiguous SACKed ranges, or more than (DupThresh − 1)·SMSS SACKed octets,
    /// above it.
    pub(crate) fn lost_below(&self, smss: usize) -> Option<Seq> {
        let mut bytes = 0usize;
        for (count, &(a, b)) in self.ranges.iter().rev().enumerate() {
            bytes += b - a;
            if count + 1 >= DUP_THRESH as usize || bytes > (DUP_THRESH as usize - 1) * smss {
                return Some(a);
            }
        }
        None
    }

    pub(crate) fn check_invariants(&self) {
        assert!(self.ranges.len() <= MAX_SACKED);
        for w in self.ranges.windows(2) {
            assert!(w[0].1 < w[1].0);
        }
    }
}

/// Most retransmissions [`RetransmitMarks`] remembers; the oldest is forgotten first (its loss
/// is then found by the retransmission timer, as without the marks).
pub(crate) const MAX_RETRANSMIT_MARKS: usize = 32;

/// A retransmission made in loss recovery: the octets resent, and SND.MAX when they were
/// resent, so that everything at or above `sent_before` left the sender after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RetransmitMark {
    start: Seq,
    end: Seq,
    sent_before: Seq,
}

/// Lost-retransmission detection. RFC 6675 finds a lost segment by the SACKed data above it,
/// but never a lost retransmission: once HighRxt has passed a hole, only the retransmission
/// timer resends it. The test here is the one RACK applies to every segment [RFC 8985 §
/// 6.2, "a segment is lost if a segment sent after it was delivered"], with RFC 6675's
/// `IsLost` threshold standing in for RACK's time window: a retransmission still not
/// delivered while more than (DupThresh − 1)·SMSS octets first sent after it have been
/// SACKed is taken as lost.
#[derive(Debug, Clone, Default)]
pub(crate) struct RetransmitMarks {
    marks: Vec<RetransmitMark>,
}

impl RetransmitMarks {
    /// Remembers that `[start, end)` was resent while SND.MAX was `snd_max`.
    pub(crate) fn record(&mut self, start: Seq, end: Seq, snd_max: Seq) {
        if start >= end {
            return;
        }
        if self.marks.len() >= MAX_RETRANSMIT_MARKS {
            self.marks.remove(0);
        }
        self.marks.push(RetransmitMark {
            start,
            end,
            sent_before: snd_max,
        });
    }

    /// Forgets every mark (recovery ended, or the retransmission timer took over).
    pub(crate) fn clear(&mut self) {
        self.marks.clear();
    }

    /// The lowest retransmission found lost: its first octet neither cumulatively
    /// acknowledged nor SACKed, and SND.MAX when it was sent (the mark is forgotten). Marks
    /// whose octets have all been delivered are forgotten on the way.
    pub(crate) fn take_lost(
        &mut self,
        scoreboard: &Scoreboard,
        snd_una: Seq,
        smss: usize,
    ) -> Option<(Seq, Seq)> {
        self.marks.retain(|m| {
            m.end > snd_una && scoreboard.unsacked_between(m.start.max(snd_una), m.end) > 0
        });
        let overtaken = |m: &RetransmitMark| {
            scoreboard.sacked_from(m.sent_before) > (DUP_THRESH as usize - 1) * smss
        };
        let at = self
            .marks
            .iter()
            .enumerate()
            .filter(|(_, m)| overtaken(m))
            .min_by_key(|(_, m)| m.start.max(snd_una) - snd_una)
            .map(|(i, _)| i)?;
        let mark = self.marks.remove(at);
        let mut first = mark.start.max(snd_una);
        while let Some(end) = scoreboard.sacked_at(first) {
            first = end;
        }
        Some((first, mark.sent_before))
    }

    pub(crate) fn check_invariants(&self) {
        assert!(self.marks.len() <= MAX_RETRANSMIT_MARKS);
        assert!(self.marks.iter().all(|m| m.start < m.end));
    }
}

/// Fast recovery in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recovery {
    /// `recover` of RFC 6582 / RecoveryPoint of RFC 6675: SND.MAX when recovery began.
    pub(crate) recover: Seq,
    /// HighRxt of RFC 6675: the highest octet retransmitted in this recovery.
    pub(crate) high_rxt: Seq,
    /// RescueRxt of RFC 6675: RecoveryPoint once the rescue retransmission (NextSeg rule 4)
    /// has gone; none before.
    pub(crate) rescue_rxt: Option<Seq>,
}

/// The congestion state of a connection.
#[derive(Debug, Clone)]
pub(crate) struct Congestion {
    pub(crate) cwnd: usize,
    pub(crate) ssthresh: usize,
    pub(crate) dup_acks: u32,
    pub(crate) recovery: Option<Recovery>,
    /// `recover` outside of recovery: no new fast retransmit before SND.UNA passes it
    /// [RFC 6582 § 3.2 step 1, § 4.1].
    pub(crate) recover: Seq,
    /// Octets the latest advance of the cumulative ACK covered (`highest_ack −
    /// prev_highest_ack` of RFC 6582 § 4.1), for the ACK heuristic.
    pub(crate) last_advance: usize,
    /// Octets acknowledged in congestion avoidance since cwnd last grew.
    bytes_acked: usize,
    /// Octets Limited Transmit sent beyond cwnd since the cumulative ACK last advanced
    /// [RFC 3042]: not part of FlightSize when ssthresh is set [RFC 5681 § 3.2 step 2].
    pub(crate) limited_transmit_sent: usize,
}

impl Congestion {
    /// IW per RFC 5681 § 3.1 (`min(4·SMSS, max(2·SMSS, 4380))` in its older form, i.e. 2 to 4
    /// segments) or IW10 of RFC 6928 (`min(10·SMSS, max(2·SMSS, 14600))`).
    pub(crate) fn new(smss: usize, iw10: bool, iss: Seq) -> Congestion {
        Congestion {
            cwnd: initial_window(smss, iw10),
            ssthresh: usize::MAX / 2,
            dup_acks: 0,
            recovery: None,
            recover: iss,
            last_advance: 0,
            bytes_acked: 0,
            limited_transmit_sent: 0,
        }
    }

    /// Whether duplicate ACKs may start a fast retransmit [RFC 6582 § 3.2 step 2]: when the
    /// cumulative ACK covers more than `recover` (`recover` here is one past the highest octet
    /// sent, so "covers more" is `ack > recover`), or else by the ACK heuristic of § 4.1: cwnd
    /// above one SMSS (not right after a timeout) and the latest advance of the cumulative
    /// ACK at most 4·SMSS (not the jump that follows go-back-N retransmissions of data the
    /// peer already had). Without the heuristic, a loss of the first segment after a
    /// recovery (its duplicate ACKs sit exactly at `recover`) waits for the timer.
    pub(crate) fn may_fast_retransmit(&self, ack: Seq, smss: usize) -> bool {
        ack > self.recover || (self.cwnd > smss && self.last_advance <= 4 * smss)
    }

    /// A new cumulative ACK outside of recovery [RFC 5681 § 3.1]: slow start grows cwnd by
    /// min(N, SMSS) per ACK; congestion avoidance by SMSS per cwnd acknowledged.
    pub(crate) fn on_new_ack(&mut self, acked: usize, smss: usize) {
        self.dup_acks = 0;
        self.limited_transmit_sent = 0;
        if self.cwnd < self.ssthresh {
            self.cwnd += acked.min(smss);
        } else {
            self.bytes_acked += acked;
            if self.bytes_acked >= self.cwnd {
                self.bytes_acked -= self.cwnd;
                self.cwnd += smss;
            }
        }
    }

    /// Loss detected by duplicate ACKs: ssthresh = max(FlightSize / 2, 2·SMSS)
    /// [RFC 5681 eq. 4].
    pub(crate) fn enter_recovery(
        &mut self,
        flight: usize,
        smss: usize,
        snd_una: Seq,
        snd_max: Seq,
    ) {
        self.ssthresh = (flight / 2).max(2 * smss);
        self.recovery = Some(Recovery {
            recover: snd_max,
            high_rxt: snd_una,
            rescue_rxt: None,
        });
        self.recover = snd_max;
        self.bytes_acked = 0;
        self.limited_transmit_sent = 0;
    }

    /// A retransmission sent after the latest reduction was lost (see [`RetransmitMarks`]):
    /// congestion outlasted that reduction, so cwnd is halved again and recovery extends to
    /// the current SND.MAX, which marks this reduction.
    pub(crate) fn lost_retransmission(&mut self, smss: usize, snd_max: Seq) {
        self.halve(smss, snd_max);
        if let Some(r) = self.recovery.as_mut() {
            r.recover = snd_max;
        }
    }

    /// A tail loss probe that resent a segment ended its episode with no sign the original
    /// arrived: the loss it repaired is a congestion event [RFC 8985 § 7.4.2], answered as
    /// fast recovery would (cwnd halved), without a recovery phase.
    pub(crate) fn tail_loss_repaired(&mut self, smss: usize, snd_max: Seq) {
        self.halve(smss, snd_max);
    }

    /// A congestion event after the first of a recovery: ssthresh and cwnd become half of
    /// cwnd, never below 2·SMSS (RFC 5681 eq. 4's bound), and `recover` moves to SND.MAX.
    /// Half of cwnd, not of FlightSize, which by then may count all the data the receiver
    /// holds SACKed.
    fn halve(&mut self, smss: usize, snd_max: Seq) {
        self.ssthresh = (self.cwnd / 2).max(2 * smss);
        self.cwnd = self.ssthresh;
        self.recover = snd_max;
        self.bytes_acked = 0;
    }

    /// The retransmission timer expired [RFC 5681 § 3.1 eq. 4, loss window of 1 SMSS;
    /// RFC 6582 § 4.1].
    pub(crate) fn on_timeout(&mut self, flight: usize, smss: usize, snd_max: Seq) {
        self.ssthresh = (flight / 2).max(2 * smss);
        self.cwnd = smss;
        self.recovery = None;
        self.recover = snd_max;
        self.dup_acks = 0;
        self.bytes_acked = 0;
        self.limited_transmit_sent = 0;
    }
}

pub(crate) fn initial_window(smss: usize, iw10: bool) -> usize {
    if iw10 {
        (10 * smss).min((2 * smss).max(14_600))
    } else if smss > 2190 {
        2 * smss
    } else if smss > 1095 {
        3 * smss
    } else {
        4 * smss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_windows() {
        assert_eq!(initial_window(1460, false), 4380);
        assert_eq!(initial_window(536, false), 2144);
        assert_eq!(initial_window(3000, false), 6000);
        assert_eq!(initial_window(1460, true), 14_600);
        assert_eq!(initial_window(9000, true), 18_000);
    }

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = Congestion::new(1000, false, Seq(0));
        assert_eq!(c.cwnd, 4000);
        c.on_new_ack(3000, 1000);
        assert_eq!(c.cwnd, 5000, "at most SMSS per ACK");
        c.ssthresh = 5000;
        for _ in 0..5 {
            c.on_new_ack(1000, 1000);
        }
        assert_eq!(c.cwnd, 6000, "one SMSS per window");
        c.on_timeout(6000, 1000, Seq(100));
        assert_eq!((c.cwnd, c.ssthresh), (1000, 3000));
    }

    #[test]
    fn fast_retransmit_beyond_recover_or_by_the_ack_heuristic() {
        let mut c = Congestion::new(1000, false, Seq(0));
        c.recover = Seq(50_000);
        c.cwnd = 5000;
        assert!(
            c.may_fast_retransmit(Seq(50_001), 1000),
            "covers more than recover"
        );
        c.last_advance = 4000;
        assert!(
            c.may_fast_retransmit(Seq(50_000), 1000),
            "advance of 4·SMSS"
        );
        c.last_advance = 4001;
        assert!(
            !c.may_fast_retransmit(Seq(50_000), 1000),
            "a go-back-N jump"
        );
        c.last_advance = 1000;
        c.cwnd = 1000;
        assert!(
            !c.may_fast_retransmit(Seq(40_000), 1000),
            "right after a timeout"
        );
        assert!(c.may_fast_retransmit(Seq(50_001), 1000));
    }

    #[test]
    fn scoreboard_merges_and_finds_losses() {
        let mut s = Scoreboard::default();
        let (una, max) = (Seq(1000), Seq(10_000));
        s.add(Seq(3000), Seq(4000), una, max);
        s.add(Seq(5000), Seq(6000), una, max);
        s.add(Seq(3500), Seq(5000), una, max);
        s.add(Seq(500), Seq(900), una, max); // below SND.UNA: ignored
        s.add(Seq(9000), Seq(11_000), una, max); // beyond SND.MAX: ignored
        s.check_invariants();
        assert_eq!(s.sacked_at(Seq(4500)), Some(Seq(6000)));
        assert_eq!(s.unsacked_between(una, max), 9000 - 3000);
        assert_eq!(s.lost_below(1000), Some(Seq(3000)), "3000 octets > 2·SMSS");
        assert_eq!(s.lost_below(2000), None);
        s.ack(Seq(3200));
        assert_eq!(s.sacked_at(Seq(3200)), Some(Seq(6000)));
        assert_eq!(s.next_sacked_after(Seq(1000)), Some(Seq(3200)));
        assert_eq!(s.highest(), Some(Seq(6000)));
        // The tail below SND.MAX that is not SACKed, for a probe.
        let mut s = Scoreboard::default();
        assert_eq!(s.last_unsacked(una, max, 1000), Some((Seq(9000), max)));
        s.add(Seq(8000), max, una, max);
        assert_eq!(
            s.last_unsacked(una, max, 1000),
            Some((Seq(7000), Seq(8000)))
        );
        s.add(Seq(2000), Seq(7500), una, max);
        assert_eq!(
            s.last_unsacked(una, max, 1000),
            Some((Seq(7500), Seq(8000)))
        );
        s.add(Seq(7500), Seq(8000), una, max);
        assert_eq!(
            s.last_unsacked(una, max, 1000),
            Some((una, Seq(2000))),
            "only SND.UNA's segment is missing"
        );
    }
}
