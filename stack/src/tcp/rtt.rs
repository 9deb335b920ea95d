//! The retransmission timeout [RFC 6298]: SRTT and RTTVAR from RTT samples (§ 2), the RTO
//! bounded below by a configurable minimum (default 1 s, § 2.4) and above by 60 s, exponential
//! backoff on expiry (§ 5.5). Karn's rule (§ 3) is the caller's: samples are only taken from
//! segments that were not retransmitted (or from timestamps, RFC 7323 § 4).

use wirecheck_codec::time::Duration;

/// Upper bound of the RTO [RFC 6298 § 2.5].
pub(crate) const MAX_RTO: Duration = Duration::from_secs(60);

/// SRTT/RTTVAR state of a connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RttEstimator {
    srtt: Option<u64>,
    rttvar: u64,
    rto: u64,
    min_rto: u64,
    /// Consecutive backoffs since the last RTT sample: the backed-off RTO is kept until a
    /// segment sent once is acknowledged (Karn's algorithm; RFC 6298 § 5, RFC 9293 § 3.8.2).
    pub(crate) backoffs: u32,
}

/// RTO once the handshake is over when a SYN had to be retransmitted [§ 5.7].
const AFTER_SYN_LOSS_RTO: Duration = Duration::from_secs(3);

/// Clock granularity G of § 2 (we measure in microseconds; 1 ms is a conservative G).
const GRANULARITY: u64 = 1_000;

impl RttEstimator {
    /// Before any sample the RTO is `initial` (1 s by § 2.1).
    pub(crate) fn new(initial: Duration, min_rto: Duration) -> RttEstimator {
        RttEstimator {
            srtt: None,
            rttvar: 0,
            rto: initial.as_micros().max(min_rto.as_micros()),
            min_rto: min_rto.as_micros(),
            backoffs: 0,
        }
    }

    /// A new measurement R [§ 2.2, § 2.3].
    pub(crate) fn sample(&mut self, r: Duration) {
        let r = r.as_micros();
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let delta = srtt.abs_diff(r);
                self.rttvar = (3 * self.rttvar + delta) / 4;
                self.srtt = Some((7 * srtt + r) / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        self.rto = (srtt + GRANULARITY.max(4 * self.rttvar))
            .max(self.min_rto)
            .min(MAX_RTO.as_micros());
        self.backoffs = 0;
    }

    /// The smoothed RTT, once measured.
    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt.map(Duration::from_micros)
    }

    /// The current RTO including backoff.
    pub(crate) fn rto(&self) -> Duration {
        let backed = self
            .rto
            .checked_shl(self.backoffs.min(16))
            .unwrap_or(u64::MAX);
        Duration::from_micros(backed.min(MAX_RTO.as_micros()))
    }

    /// The handshake is over. If the SYN (or SYN-ACK) timer expired and no RTT has been
    /// measured since, data transfer starts with an RTO of 3 s rather than the backed-off one
    /// [§ 5.7: "re-initialized to 3 seconds when data transmission begins"].
    pub(crate) fn handshake_done(&mut self) {
        if self.backoffs > 0 {
            self.backoffs = 0;
            self.rto = AFTER_SYN_LOSS_RTO
                .as_micros()
                .max(self.rto)
                .max(self.min_rto)
                .min(MAX_RTO.as_micros());
        }
    }

    /// The timer expired: back off [§ 5.5].
    pub(crate) fn back_off(&mut self) {
        if self.rto() < MAX_RTO {
            self.backoffs += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6298_computation() {
        let mut e = RttEstimator::new(Duration::from_secs(1), Duration::from_millis(200));
        assert_eq!(e.rto(), Duration::from_secs(1));
        e.sample(Duration::from_millis(100));
        // SRTT 100, RTTVAR 50 → RTO = 100 + 4·50 = 300 ms.
        assert_eq!(e.rto(), Duration::from_millis(300));
        e.sample(Duration::from_millis(100));
        // RTTVAR = 3/4·50 + 0 = 37.5, SRTT 100 → 250 ms.
        assert_eq!(e.rto(), Duration::from_micros(250_000));
        e.back_off();
        e.back_off();
        assert_eq!(e.rto(), Duration::from_secs(1));
        for _ in 0..20 {
            e.back_off();
        }
        assert_eq!(e.rto(), MAX_RTO);
        // The minimum applies.
        let mut e = RttEstimator::new(Duration::from_secs(1), Duration::from_secs(1));
        e.sample(Duration::from_millis(1));
        assert_eq!(e.rto(), Duration::from_secs(1));
    }
}
