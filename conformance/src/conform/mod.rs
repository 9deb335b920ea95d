//! The conformance runner: packetdrill-style scenarios run against a stack under test and
//! scored per RFC requirement.
//!
//! - [`target`]: the one trait every stack under test implements, and its [`Profile`].
//! - [`script`]: a parsed scenario (the syntax tree [`parse`] produces and [`run`] executes).
//! - [`parse`]: packetdrill syntax plus wirecheck's extensions (Ethernet, ARP, fragments, IGMP).
//! - [`run`]: the interpreter: injects inbound packets, matches outbound ones field by field,
//!   drives socket calls, and gives a [`Verdict`].
//! - [`targets`]: wirecheck's stack and smoltcp in virtual time, Linux over TAP.
//! - [`catalog`]: requirement IDs and which scenarios cover them.
//! - [`suite`]: the bundled scenarios and suites read from directories (FreeBSD's).
//! - [`driver`]: suites run against targets on several threads, and the wire log as pcap.
//! - [`report`]: the per-requirement table, JSON Lines and JUnit XML.
//! - [`replay`]: a recorded conversation of a capture turned into a script the target replays.
//!
//! [`Profile`]: target::Profile

pub mod catalog;
pub mod driver;
pub mod parse;
pub mod replay;
pub mod report;
pub mod run;
pub mod script;
pub mod suite;
pub mod target;
pub mod targets;

use std::fmt;

/// The outcome of one scenario against one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// Every expectation held.
    Pass,
    /// An expectation did not hold (wrong packet, wrong return value, missing packet, …).
    Fail,
    /// A timing window was missed on a real-time target, so nothing can be concluded.
    Inconclusive,
    /// The target's profile says the feature the scenario needs is absent, or the scenario
    /// uses something this runner cannot express (IPv6, a syscall with no equivalent).
    NotApplicable,
}

impl Verdict {
    /// Lower-case name as used in reports: `pass`, `fail`, `inconclusive`, `not-applicable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotApplicable => "not-applicable",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
