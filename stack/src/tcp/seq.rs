//! Sequence numbers: 32-bit values compared modulo 2³² [RFC 9293 § 3.4], so that every
//! comparison stays right across wraparound (`a < b` iff `b - a` taken as a signed 32-bit
//! difference is positive).

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A TCP sequence number with modular ordering.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Seq(pub u32);

impl Seq {
    /// The signed distance from `other` to `self` (positive when `self` is later).
    pub fn diff(self, other: Seq) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// `self` at or after `lo` and strictly before `hi`, modulo 2³².
    pub fn in_range(self, lo: Seq, hi: Seq) -> bool {
        lo <= self && self < hi
    }

    /// The later of two sequence numbers.
    pub fn max(self, other: Seq) -> Seq {
        if self >= other {
            self
        } else {
            other
        }
    }

    /// The earlier of two sequence numbers.
    pub fn min(self, other: Seq) -> Seq {
        if self <= other {
            self
        } else {
            other
        }
    }
}

impl PartialOrd for Seq {
    fn partial_cmp(&self, other: &Seq) -> Option<Ordering> {
        Some(self.diff(*other).cmp(&0))
    }
}

impl Add<u32> for Seq {
    type Output = Seq;
    fn add(self, n: u32) -> Seq {
        Seq(self.0.wrapping_add(n))
    }
}

impl Add<usize> for Seq {
    type Output = Seq;
    fn add(self, n: usize) -> Seq {
        Seq(self.0.wrapping_add(n as u32))
    }
}

impl AddAssign<u32> for Seq {
    fn add_assign(&mut self, n: u32) {
        self.0 = self.0.wrapping_add(n);
    }
}

impl AddAssign<usize> for Seq {
    fn add_assign(&mut self, n: usize) {
        self.0 = self.0.wrapping_add(n as u32);
    }
}

/// The distance `self - other` as an unsigned count (callers ensure `self >= other`; a
/// negative distance saturates to 0).
impl Sub for Seq {
    type Output = usize;
    fn sub(self, other: Seq) -> usize {
        self.diff(other).max(0) as usize
    }
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordering_across_wraparound() {
        let a = Seq(u32::MAX - 10);
        let b = a + 20u32;
        assert_eq!(b.0, 9);
        assert!(a < b);
        assert!(b > a);
        assert_eq!(b - a, 20);
        assert_eq!(a - b, 0, "negative distances saturate");
        assert!(Seq(5).in_range(a, b));
        assert!(!b.in_range(a, b));
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
    }

    proptest! {
        #[test]
        fn addition_orders(x: u32, n in 1u32..0x7fff_ffff) {
            let a = Seq(x);
            prop_assert!(a < a + n);
            prop_assert_eq!((a + n) - a, n as usize);
        }
    }
}
