//! The scenario interpreter: runs a [`Script`] against a [`Target`] the way packetdrill runs a
//! script against a kernel, and gives a [`Verdict`] with a one-line reason and, for failures,
//! the script line and the expected and actual values field by field.
//!
//! It owns the run's timeline and the peer's side of the wire:
//! - inbound lines (`<`) are built as whole Ethernet frames (`frames`) and injected at their
//!   script time;
//! - outbound lines (`>`) are matched against the first frame the target sent, within the
//!   timing tolerance, field by field (`observe`);
//! - socket calls are translated to [`SocketCall`]s and their results compared (`calls`);
//!   a call on a blocking descriptor that would block is retried as time passes and packets
//!   arrive, as the kernel would have blocked;
//! - with `--arp=auto` the runner answers the target's ARP requests for every address it
//!   plays, and ARP is not matched against the script.
//!
//! Sequence numbers follow packetdrill: the remote end's numbers are sent as written (its ISN
//! is the script's), the target's ISN is learnt from its first SYN or SYN-ACK, and outbound
//! sequence numbers are compared relative to it; inbound `ack` and SACK blocks are mapped
//! through it. Outbound TS val is learnt and inbound TS ecr mapped to the live value.
//!
//! The first failed expectation ends the run (as in packetdrill).

mod calls;
mod frames;
mod observe;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::Duration;

use wirecheck_codec::arp::{ArpEthernetIpv4, ArpOperation};
use wirecheck_codec::ethernet::{EtherType, EthernetHeader, MacAddr};
use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header};

use super::script::{
    ArpSpec, Direction, Event, EventKind, PacketBody, PacketEvent, Script, TimeSpec, Times,
};
use super::target::{
    CallOk, CallOutcome, InterfaceSetup, Network, Profile, SentFrame, SocketCall, SocketOption,
    Target, FEATURES,
};
use super::Verdict;

/// How a run is made.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Keep every frame that crossed the wire in [`ScenarioOutcome::wire`] (for `--pcap`).
    pub keep_wire: bool,
    /// Use this profile instead of the target's own (e.g. the relaxed profile of a peer suite).
    pub profile_override: Option<Profile>,
    /// Skip shell lines other than `sysctl` (noted) instead of making the scenario not
    /// applicable.
    pub ignore_shell: bool,
    /// What `sysctl -w NAME=VALUE` lines mean for the target: `Ok` when the setting is what
    /// the target does anyway (the line is noted), `Err(why)` when the scenario depends on a
    /// setting the target cannot take (the scenario is then not applicable). `None`: every
    /// sysctl line is noted and skipped.
    pub sysctl: Option<SysctlPolicy>,
    /// Fail on packets the target sends after the script's last line (within the tolerance).
    /// wirecheck's scenarios rely on it to check silent discards; packetdrill stops looking
    /// at the last line, so peer suites run without it.
    pub check_after_last_line: bool,
    /// Compare the PSH flag of outbound segments. Off by default: where PSH goes is the
    /// sender's choice [RFC 9293 § 3.9.1.2; RFC 1122 § 4.2.2.2], and stacks differ (Linux
    /// marks the last segment of each write, retransmissions included).
    pub check_push: bool,
    /// Compare `SO_RCVBUF`/`SO_SNDBUF` values read with `getsockopt` (buffer sizes are the
    /// implementation's choice, so by default they are noted and not compared; `SO_RCVBUF`
    /// is compared in scripts that require `exact-receive-buffer`).
    pub check_buffer_sizes: bool,
    /// Symbols defined for `#ifdef` blocks. The default defines `STANDARD` (the FreeBSD
    /// suite's branch for what the RFCs require) and not `FreeBSD`.
    pub defines: BTreeSet<String>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            keep_wire: false,
            profile_override: None,
            ignore_shell: false,
            check_buffer_sizes: false,
            sysctl: None,
            check_after_last_line: true,
            check_push: false,
            defines: BTreeSet::from(["STANDARD".to_string()]),
        }
    }
}

/// Decides what a `sysctl -w NAME=VALUE` line means for a target with `profile`; see
/// [`RunOptions::sysctl`].
pub type SysctlPolicy = fn(name: &str, value: &str, profile: &Profile) -> Result<(), String>;

/// `NAME=VALUE` of a `sysctl [-w] NAME=VALUE` command, if it is one.
fn sysctl_setting(command: &str) -> Option<(&str, &str)> {
    let rest = command.strip_prefix("sysctl")?.trim_start();
    let rest = rest.strip_prefix("-w").map_or(rest, str::trim_start);
    let (name, value) = rest.split_once('=')?;
    Some((name.trim(), value.trim()))
}

/// A frame that crossed the wire during a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRecord {
    /// When, measured from the start of the run (the target's clock).
    pub at: Duration,
    /// Inbound: injected by the runner; outbound: sent by the target.
    pub direction: Direction,
    /// Interface index.
    pub interface: usize,
    /// The whole Ethernet frame.
    pub bytes: Vec<u8>,
}

/// What one run of a scenario gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioOutcome {
    /// The verdict.
    pub verdict: Verdict,
    /// One line: why (for a pass, how many expectations held).
    pub reason: String,
    /// For failures: the script line, expected versus actual field by field, timing.
    pub detail: Vec<String>,
    /// What the run skipped or did not check (sysctl lines, `%{ }%` blocks, buffer sizes).
    pub notes: Vec<String>,
    /// Everything that crossed the wire, when [`RunOptions::keep_wire`] is set.
    pub wire: Vec<WireRecord>,
    /// Expectations checked: outbound packets matched and call results compared.
    pub checked: usize,
}

/// Port the runner's end of the script's TCP/UDP flows uses (packetdrill picks one too).
const DEFAULT_REMOTE_PORT: u16 = 54321;
/// Port `bind(fd, ..., ...)` and `connect(fd, ..., ...)` use, as in packetdrill.
const DEFAULT_SERVICE_PORT: u16 = 8080;
/// packetdrill's default `--tolerance_usecs`.
const DEFAULT_TOLERANCE: Duration = Duration::from_micros(4000);
/// Largest step of virtual time taken at once while nothing is pending (so ARP requests are
/// answered promptly and blocking calls are retried often enough).
const COARSE_STEP: Duration = Duration::from_millis(100);
/// Finest step used while waiting for a packet or a blocking call.
const MIN_FINE_STEP: Duration = Duration::from_micros(250);
/// How long an outbound `*` line waits for its packet.
const ANY_TIME_WAIT: Duration = Duration::from_secs(120);
/// After a missed deadline, how much longer the runner watches to tell "late" from "never".
const LATE_WATCH: Duration = Duration::from_secs(1);
/// Unmatched outbound frames held before the run gives up (a flood is a failure, not memory).
const MAX_QUEUED_FRAMES: usize = 10_000;
/// Frames kept in the wire log.
const MAX_WIRE_RECORDS: usize = 200_000;
/// TCP flows tracked at once.
const MAX_FLOWS: usize = 64;
/// Rounds of ARP answering after one step (each answer may release queued frames).
const MAX_ARP_ROUNDS: usize = 8;

/// Runs `script` against `target` and says what happened.
///
/// The target is configured from the script's options, driven through the events in order,
/// and shut down at the end, whatever the verdict.
pub fn run_script(
    script: &Script,
    target: &mut dyn Target,
    options: &RunOptions,
) -> ScenarioOutcome {
    let profile = options
        .profile_override
        .clone()
        .unwrap_or_else(|| target.profile().clone());
    if let Some(stop) = not_applicable_up_front(script, &profile) {
        return ScenarioOutcome {
            verdict: stop.verdict,
            reason: stop.reason,
            detail: stop.detail,
            notes: Vec::new(),
            wire: Vec::new(),
            checked: 0,
        };
    }
    let mut runner = match Runner::new(script, target, options, profile) {
        Ok(runner) => runner,
        Err(stop) => {
            return ScenarioOutcome {
                verdict: stop.verdict,
                reason: stop.reason,
                detail: stop.detail,
                notes: Vec::new(),
                wire: Vec::new(),
                checked: 0,
            }
        }
    };
    let result = runner.run();
    runner.target.shutdown();
    let (verdict, reason, detail) = match result {
        Ok(()) => (
            Verdict::Pass,
            format!(
                "{} expectation{} held",
                runner.checked,
                if runner.checked == 1 { "" } else { "s" }
            ),
            Vec::new(),
        ),
        Err(stop) if stop.verdict == Verdict::Fail && runner.batch_best_effort => (
            Verdict::Inconclusive,
            format!(
                "{} (inconclusive: target {} takes a batch of frames one by one)",
                stop.reason,
                runner.target.name()
            ),
            stop.detail,
        ),
        Err(stop) => (stop.verdict, stop.reason, stop.detail),
    };
    if runner.wire_truncated {
        runner.notes.push(format!(
            "wire log kept only the first {MAX_WIRE_RECORDS} frames"
        ));
    }
    ScenarioOutcome {
        verdict,
        reason,
        detail,
        notes: runner.notes,
        wire: runner.wire,
        checked: runner.checked,
    }
}

/// Why the run stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stop {
    verdict: Verdict,
    reason: String,
    detail: Vec<String>,
}

impl Stop {
    fn fail(reason: impl Into<String>, detail: Vec<String>) -> Stop {
        Stop {
            verdict: Verdict::Fail,
            reason: reason.into(),
            detail,
        }
    }

    fn not_applicable(reason: impl Into<String>) -> Stop {
        Stop {
            verdict: Verdict::NotApplicable,
            reason: reason.into(),
            detail: Vec::new(),
        }
    }
}

type Step = Result<(), Stop>;

/// `--ip_version=ipv6` and missing `--requires` features.
fn not_applicable_up_front(script: &Script, profile: &Profile) -> Option<Stop> {
    if let Some(version) = script.option("ip_version") {
        if version != "ipv4" {
            return Some(Stop::not_applicable(format!(
                "--ip_version={version}: wirecheck runs IPv4 scenarios only"
            )));
        }
    }
    let unknown: Vec<&str> = script
        .requires
        .iter()
        .map(String::as_str)
        .filter(|f| !FEATURES.iter().any(|(name, _)| name == f))
        .collect();
    if !unknown.is_empty() {
        return Some(Stop::not_applicable(format!(
            "--requires names unknown feature{} {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", ")
        )));
    }
    let missing: Vec<&str> = script
        .requires
        .iter()
        .map(String::as_str)
        .filter(|f| !profile.features.contains(f))
        .collect();
    if !missing.is_empty() {
        return Some(Stop::not_applicable(format!(
            "profile {} lacks required feature{} {}",
            profile.name,
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }
    None
}

/// The network the script's options describe.
fn network_from_options(script: &Script) -> Result<Network, Stop> {
    let mut network = Network::default();
    let bad = |name: &str, value: &str, what: &str| {
        Stop::fail(
            format!("bad option --{name}={value}: expected {what}"),
            Vec::new(),
        )
    };
    let address = |name: &str| -> Result<Option<Ipv4Addr>, Stop> {
        match script.option(name) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| bad(name, v, "an IPv4 address")),
        }
    };
    if let Some(a) = address("local_ip")? {
        network.interfaces[0].address = a;
    }
    if let Some(a) = address("remote_ip")? {
        network.remote_ip = a;
    }
    if let Some(a) = address("gateway_ip")? {
        network.gateway_ip = a;
    }
    if let Some(v) = script.option("prefix_len") {
        network.interfaces[0].prefix_len = v
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| bad("prefix_len", v, "0 to 32"))?;
    }
    if let Some(v) = script.option("mtu") {
        network.interfaces[0].mtu = v
            .parse()
            .ok()
            .filter(|m| *m >= 68)
            .ok_or_else(|| bad("mtu", v, "68 to 65535"))?;
    }
    // --interface1=A/P, --interface2=…: consecutive indices from 1.
    let mut extra: BTreeMap<usize, (Ipv4Addr, u8)> = BTreeMap::new();
    for (name, value) in &script.options {
        let Some(index) = name.strip_prefix("interface") else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        let parsed = value.split_once('/').and_then(|(a, p)| {
            Some((
                a.parse::<Ipv4Addr>().ok()?,
                p.parse::<u8>().ok().filter(|p| *p <= 32)?,
            ))
        });
        let Some(parsed) = parsed.filter(|_| index >= 1) else {
            return Err(bad(
                name,
                value,
                "ADDRESS/PREFIX on an interface index of 1 or more",
            ));
        };
        extra.insert(index, parsed);
    }
    for (position, (index, (address, prefix_len))) in extra.into_iter().enumerate() {
        if index != position + 1 {
            return Err(Stop::fail(
                format!(
                    "--interface{index} given without --interface{}",
                    position + 1
                ),
                Vec::new(),
            ));
        }
        network.interfaces.push(InterfaceSetup {
            mac: MacAddr([0x02, 0x00, 0x00, 0x00, index as u8, 0x01]),
            address,
            prefix_len,
            mtu: 1500,
        });
    }
    Ok(network)
}

/// `--tolerance_usecs`, widened to the profile's tolerance.
fn tolerance(script: &Script, profile: &Profile) -> Result<Duration, Stop> {
    let from_script = match script.option("tolerance_usecs") {
        None => DEFAULT_TOLERANCE,
        Some(v) => Duration::from_micros(v.parse().map_err(|_| {
            Stop::fail(
                format!("bad option --tolerance_usecs={v}: expected microseconds"),
                Vec::new(),
            )
        })?),
    };
    Ok(from_script.max(profile.timing_tolerance))
}

/// A TCP connection as the runner tracks it: its ports and the live values learnt.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TcpFlow {
    /// The target's port (None until learnt from an active open's SYN).
    local_port: Option<u16>,
    /// The runner's port.
    remote_port: u16,
    /// Live sequence number minus script sequence number for the target's side, learnt from
    /// its first SYN (zero until then: a RST from a closed port uses the script's numbers).
    seq_offset: Option<u32>,
    /// Script TS val → live TS val of the target's segments, most recent last.
    ts_values: VecDeque<(u32, u32)>,
    /// The last TS val the target sent.
    last_ts_val: Option<u32>,
}

/// Live TS values remembered per flow for mapping inbound `ecr`.
const MAX_TS_VALUES: usize = 64;

impl TcpFlow {
    fn new(local_port: Option<u16>, remote_port: u16) -> TcpFlow {
        TcpFlow {
            local_port,
            remote_port,
            seq_offset: None,
            ts_values: VecDeque::new(),
            last_ts_val: None,
        }
    }

    /// The live value of an outbound-relative sequence number (an inbound `ack` or SACK edge).
    fn live_local_seq(&self, script: u32) -> u32 {
        script.wrapping_add(self.seq_offset.unwrap_or(0))
    }

    /// The script-relative value of a live sequence number of the target's.
    fn script_local_seq(&self, live: u32) -> u32 {
        live.wrapping_sub(self.seq_offset.unwrap_or(0))
    }

    /// The live TS ecr for a script `ecr` on an inbound line.
    fn live_echo(&self, script: u32) -> u32 {
        if script == 0 {
            return 0;
        }
        if let Some((_, live)) = self.ts_values.iter().rev().find(|(s, _)| *s == script) {
            return *live;
        }
        self.last_ts_val.unwrap_or(script)
    }

    fn learn_ts(&mut self, script: u32, live: u32) {
        if self.ts_values.len() >= MAX_TS_VALUES {
            self.ts_values.pop_front();
        }
        self.ts_values.push_back((script, live));
        self.last_ts_val = Some(live);
    }
}

/// The runner's view of the network and of the flows the script's lines belong to.
#[derive(Debug)]
struct Session {
    network: Network,
    /// The target's MAC per interface, read after configuration.
    target_macs: Vec<MacAddr>,
    check_window: bool,
    check_option_order: bool,
    /// Compare the PSH flag of outbound segments (see [`RunOptions::check_push`]).
    check_push: bool,
    flows: Vec<TcpFlow>,
    /// Ports a TCP line without explicit ports uses.
    tcp_local_port: Option<u16>,
    tcp_remote_port: u16,
    /// Ports a UDP line without explicit ports uses.
    udp_local_port: Option<u16>,
    udp_remote_port: u16,
    /// Next IPv4 identification for inbound datagrams.
    next_ip_id: u16,
    /// Whole transport payloads of fragmented inbound datagrams, by IP identification, so
    /// every fragment carries its part of one consistent datagram (see [`frames`]).
    fragment_plans: BTreeMap<u16, frames::FragmentPlan>,
}

impl Session {
    fn local_ip(&self, interface: usize) -> Ipv4Addr {
        self.network
            .interfaces
            .get(interface)
            .map_or(self.network.interfaces[0].address, |i| i.address)
    }

    fn target_mac(&self, interface: usize) -> MacAddr {
        self.target_macs
            .get(interface)
            .copied()
            .unwrap_or(MacAddr::ZERO)
    }

    /// The flow a TCP line belongs to, by its ports (or the defaults), created if new.
    fn flow_index(&mut self, local: Option<u16>, remote: u16) -> usize {
        let found = self.flows.iter().rposition(|f| {
            f.remote_port == remote
                && match (f.local_port, local) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        });
        if let Some(i) = found {
            if self.flows[i].local_port.is_none() {
                self.flows[i].local_port = local;
            }
            return i;
        }
        if self.flows.len() >= MAX_FLOWS {
            self.flows.remove(0);
        }
        self.flows.push(TcpFlow::new(local, remote));
        self.flows.len() - 1
    }
}

/// A call on a blocking descriptor that has not returned yet.
#[derive(Debug, Clone)]
struct PendingCall {
    /// The script line.
    line: usize,
    /// The call as the script wrote it, for messages.
    text: String,
    /// What it expects.
    expected: calls::Expected,
    /// What to retry.
    call: SocketCall,
    /// Octets a blocking write has handed over so far.
    written: usize,
    /// Script time window in which it must return.
    earliest: Duration,
    latest: Duration,
}

/// An outbound `repeated` or `optional` line whose packet may still come (again).
#[derive(Debug, Clone)]
struct Repeat {
    /// The script line.
    line: usize,
    /// What each copy must match.
    packet: PacketEvent,
    /// Script time before which a packet is not a copy (the window's start and the
    /// tolerance for `optional`, the first copy for `repeated`).
    from: Duration,
    /// Script time after which copies no longer belong to it (the window's end and the
    /// tolerance).
    deadline: Duration,
    /// Copies seen so far.
    count: usize,
    /// When the first (None: none yet) and the last copy were sent.
    first: Option<Duration>,
    last: Duration,
}

/// When an event may happen, in script time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    start: Duration,
    end: Duration,
    any: bool,
}

struct Runner<'a> {
    script: &'a Script,
    target: &'a mut dyn Target,
    options: &'a RunOptions,
    profile: Profile,
    session: Session,
    tolerance: Duration,
    arp_auto: bool,
    /// IGMP the target sends is not matched when the script has no IGMP lines.
    ignore_igmp: bool,
    /// Gratuitous ARP is not matched unless the script expects one.
    ignore_gratuitous_arp: bool,
    /// Addresses the runner plays (answers ARP for).
    played: BTreeSet<Ipv4Addr>,
    /// The target's clock at script time 0.
    base: Duration,
    /// Outbound frames not matched yet, oldest first.
    queue: VecDeque<SentFrame>,
    wire: Vec<WireRecord>,
    wire_truncated: bool,
    checked: usize,
    notes: Vec<String>,
    /// Script time of the previous event (relative times count from it).
    last_time: Duration,
    fds: calls::FdTable,
    pending: Option<PendingCall>,
    /// The open `repeated` and `optional` lines.
    repeats: Vec<Repeat>,
    /// A batch went to a target that takes frames one by one (a failure is inconclusive).
    batch_best_effort: bool,
    ignored_non_ipv4: usize,
}

impl<'a> Runner<'a> {
    fn new(
        script: &'a Script,
        target: &'a mut dyn Target,
        options: &'a RunOptions,
        profile: Profile,
    ) -> Result<Runner<'a>, Stop> {
        let network = network_from_options(script)?;
        let tolerance = tolerance(script, &profile)?;
        let arp_auto = match script.option("arp") {
            None | Some("auto") => true,
            Some("manual") => false,
            Some(other) => {
                return Err(Stop::fail(
                    format!("bad option --arp={other}: expected auto or manual"),
                    Vec::new(),
                ))
            }
        };
        if let Err(e) = target.configure(&network) {
            return Err(Stop {
                verdict: Verdict::Inconclusive,
                reason: format!("target {} could not be set up: {e}", target.name()),
                detail: Vec::new(),
            });
        }
        let target_macs = (0..network.interfaces.len())
            .map(|i| target.interface_mac(i))
            .collect();
        let ignore_igmp = !script.events.iter().any(|e| {
            e.kind
                .packets()
                .iter()
                .any(|p| matches!(p.body, PacketBody::Igmp(_)))
        });
        // Gratuitous ARP (an announcement, sender = target address) is matched only by a
        // script that expects one, as IGMP is.
        let ignore_gratuitous_arp = !script.events.iter().any(|e| {
            matches!(&e.kind, EventKind::Packet(PacketEvent {
                direction: Direction::Outbound,
                body: PacketBody::Arp(ArpSpec::Request { target_ip, sender_ip }),
                ..
            }) if target_ip == sender_ip)
        });
        let mut played = BTreeSet::from([network.gateway_ip, network.remote_ip]);
        for event in &script.events {
            for p in event.kind.packets() {
                let address = match p.direction {
                    Direction::Inbound => p.ip.src,
                    Direction::Outbound => p.ip.dst,
                };
                played.extend(address);
            }
        }
        let own: BTreeSet<Ipv4Addr> = network.interfaces.iter().map(|i| i.address).collect();
        played.retain(|a| !own.contains(a) && !a.is_multicast() && !a.is_broadcast());
        // `--check_window=true`: the script's outbound windows are the RFC's numbers for a
        // buffer it sets (with `--requires=exact-receive-buffer`), not one stack's choice.
        let check_window = match script.option("check_window") {
            None => profile.check_window,
            Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(Stop::fail(
                    format!("bad option --check_window={other}: expected true or false"),
                    Vec::new(),
                ))
            }
        };
        let check_option_order = profile.check_option_order;
        let base = target.now();
        let mut session = Session {
            network,
            target_macs,
            check_window,
            check_option_order,
            check_push: options.check_push,
            flows: Vec::new(),
            tcp_local_port: None,
            tcp_remote_port: DEFAULT_REMOTE_PORT,
            udp_local_port: None,
            udp_remote_port: DEFAULT_REMOTE_PORT,
            next_ip_id: 1,
            fragment_plans: BTreeMap::new(),
        };
        session.plan_fragments(script);
        Ok(Runner {
            script,
            target,
            options,
            profile,
            session,
            tolerance,
            arp_auto,
            ignore_igmp,
            ignore_gratuitous_arp,
            played,
            base,
            queue: VecDeque::new(),
            wire: Vec::new(),
            wire_truncated: false,
            checked: 0,
            notes: Vec::new(),
            last_time: Duration::ZERO,
            fds: calls::FdTable::default(),
            pending: None,
            repeats: Vec::new(),
            batch_best_effort: false,
            ignored_non_ipv4: 0,
        })
    }

    fn run(&mut self) -> Step {
        // Whatever the target sent while it was set up (gratuitous ARP, IGMP) is handled now.
        self.collect()?;
        self.introduce_peers()?;
        let script = self.script;
        for event in &script.events {
            let applies = event
                .condition
                .as_ref()
                .is_none_or(|c| c.holds(|name| self.options.defines.contains(name)));
            if applies {
                self.event(event)?;
            }
        }
        self.finish()
    }

    /// The target's clock reading for a script time.
    fn live(&self, script_time: Duration) -> Duration {
        self.base.saturating_add(script_time)
    }

    /// The script time of a target clock reading.
    fn script_time(&self, live: Duration) -> Duration {
        live.saturating_sub(self.base)
    }

    fn now(&self) -> Duration {
        self.script_time(self.target.now())
    }

    fn window(&self, time: TimeSpec) -> Window {
        let last = self.last_time;
        let w = |start: Duration, end: Duration, relative: bool| {
            if relative {
                (last.saturating_add(start), last.saturating_add(end))
            } else {
                (start, end)
            }
        };
        let (start, end, any) = match time {
            TimeSpec::Absolute(t) => (t, t, false),
            TimeSpec::Relative(d) => (last.saturating_add(d), last.saturating_add(d), false),
            TimeSpec::Range {
                start,
                end,
                relative,
            }
            | TimeSpec::Blocking {
                start,
                end,
                relative,
            } => {
                let (s, e) = w(start, end, relative);
                (s, e, false)
            }
            TimeSpec::Any => (last, last.saturating_add(ANY_TIME_WAIT), true),
        };
        Window { start, end, any }
    }

    fn event(&mut self, event: &Event) -> Step {
        let window = self.window(event.time);
        match &event.kind {
            EventKind::Packet(packet) => match packet.direction {
                Direction::Inbound => self.inbound(event, std::slice::from_ref(packet), window),
                Direction::Outbound => self.outbound(event, packet, window),
            },
            EventKind::Batch(packets) => self.inbound(event, packets, window),
            EventKind::Call(call) => self.call(event, call, window),
            EventKind::Shell(command) => {
                self.advance_to(window.start, false)?;
                self.last_time = window.start;
                let trimmed = command.trim();
                if let (Some(policy), Some((name, value))) =
                    (self.options.sysctl, sysctl_setting(trimmed))
                {
                    if let Err(why) = policy(name, value, &self.profile) {
                        return Err(Stop::not_applicable(format!(
                            "line {}: the scenario needs `{name}={value}`: {why}",
                            event.line
                        )));
                    }
                }
                if trimmed.starts_with("sysctl") || trimmed.contains("/proc/sys/") {
                    self.notes.push(format!(
                        "line {}: sysctl command not run: {trimmed}",
                        event.line
                    ));
                    Ok(())
                } else if self.options.ignore_shell {
                    self.notes.push(format!(
                        "line {}: shell command not run: {trimmed}",
                        event.line
                    ));
                    Ok(())
                } else {
                    Err(Stop::not_applicable(format!(
                        "line {}: the scenario runs a shell command (`{trimmed}`), \
                         which the runner does not execute",
                        event.line
                    )))
                }
            }
            EventKind::Code(_) => {
                self.notes.push(format!(
                    "line {}: %{{ }}% block not checked (the runner does not run Python)",
                    event.line
                ));
                Ok(())
            }
        }
    }

    /// An inbound line, or a batch of them (extension `&`): every frame is built, then all are
    /// handed to the target at once, before it runs its output.
    fn inbound(&mut self, event: &Event, packets: &[PacketEvent], window: Window) -> Step {
        let at = if window.any { self.now() } else { window.start };
        self.advance_to(at, false)?;
        self.no_unexpected(event.line, "before injecting it")?;
        let mut frames = Vec::with_capacity(packets.len());
        for (index, packet) in packets.iter().enumerate() {
            let which = if packets.len() > 1 {
                format!("packet {} of the batch", index + 1)
            } else {
                "the packet".to_string()
            };
            let frame = self.session.build_inbound(packet).map_err(|e| {
                Stop::fail(
                    format!("line {}: cannot build {which}: {e}", event.line),
                    Vec::new(),
                )
            })?;
            if packet.interface >= self.session.network.interfaces.len() {
                return Err(Stop::fail(
                    format!(
                        "line {}: interface eth{} is not configured (add --interface{}=A/P)",
                        event.line, packet.interface, packet.interface
                    ),
                    Vec::new(),
                ));
            }
            frames.push((packet.interface, frame));
        }
        if frames.len() == 1 {
            let (interface, frame) = frames.remove(0);
            self.inject(interface, frame);
        } else {
            let now = self.target.now();
            if !self.target.takes_batches_at_once() {
                self.batch_best_effort = true;
            }
            self.target.inject_batch(&frames);
            for (interface, frame) in frames {
                self.log(now, Direction::Inbound, interface, frame);
            }
        }
        self.collect()?;
        self.retry_pending()?;
        self.last_time = at;
        Ok(())
    }

    fn inject(&mut self, interface: usize, frame: Vec<u8>) {
        let at = self.target.now();
        self.target.inject(interface, &frame);
        self.log(at, Direction::Inbound, interface, frame);
    }

    fn log(&mut self, at: Duration, direction: Direction, interface: usize, bytes: Vec<u8>) {
        if !self.options.keep_wire {
            return;
        }
        if self.wire.len() >= MAX_WIRE_RECORDS {
            self.wire_truncated = true;
            return;
        }
        self.wire.push(WireRecord {
            at,
            direction,
            interface,
            bytes,
        });
    }

    /// Takes what the target sent, answers ARP (auto mode), drops what is not matched (ARP in
    /// auto mode, IGMP when the script has none, non-IPv4 frames) and queues the rest.
    fn collect(&mut self) -> Step {
        for _ in 0..MAX_ARP_ROUNDS {
            let sent = self.target.take_sent();
            if sent.is_empty() {
                return Ok(());
            }
            for frame in sent {
                self.log(
                    frame.at,
                    Direction::Outbound,
                    frame.interface,
                    frame.bytes.clone(),
                );
                match classify(&frame.bytes) {
                    FrameClass::Arp(arp) if self.arp_auto => self.answer_arp(&frame, arp),
                    FrameClass::Arp(arp)
                        if self.ignore_gratuitous_arp && arp.sender_ip == arp.target_ip => {}
                    FrameClass::Igmp if self.ignore_igmp => {}
                    FrameClass::NotIpv4 => self.ignored_non_ipv4 += 1,
                    _ => {
                        if let Some(problem) = observe::eol_padding_problem(&frame.bytes) {
                            let described = self.session.describe(&frame);
                            return Err(Stop::fail(
                                format!(
                                    "the target sent a TCP segment whose header after End of \
                                     Option List is not zero (RFC 9293 § 3.1, MUST-69): {problem}"
                                ),
                                vec![format!(
                                    "at {} (eth{}): {described}: {problem}",
                                    secs(self.script_time(frame.at)),
                                    frame.interface
                                )],
                            ));
                        }
                        if self.queue.len() >= MAX_QUEUED_FRAMES {
                            return Err(Stop::fail(
                                format!(
                                    "the target sent more than {MAX_QUEUED_FRAMES} \
                                     frames the script did not expect"
                                ),
                                Vec::new(),
                            ));
                        }
                        self.queue.push_back(frame);
                    }
                }
            }
        }
        Ok(())
    }

    /// In `--arp=auto`, each on-link address the runner plays first asks the target for its
    /// own address, so the target learns the peer's MAC before the script starts [RFC 826,
    /// "Packet Reception": the target of a request adds the sender]. packetdrill gets the
    /// same effect from a static neighbour entry. Without it, a stack that drops the packet
    /// that triggered address resolution (smoltcp has no pending queue) would lose the
    /// script's first answer and fail scenarios that are not about ARP. `--arp=manual`
    /// scenarios start with empty caches.
    fn introduce_peers(&mut self) -> Step {
        if !self.arp_auto {
            return Ok(());
        }
        let interfaces = self.session.network.interfaces.clone();
        let peer = self.session.network.peer_mac;
        let played: Vec<Ipv4Addr> = self.played.iter().copied().collect();
        for (index, interface) in interfaces.iter().enumerate() {
            let host_bits = 32 - u32::from(interface.prefix_len.min(32));
            let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
            let own = u32::from(interface.address);
            for &address in &played {
                let a = u32::from(address);
                let on_link = a & mask == own & mask;
                let network_or_broadcast = host_bits > 1 && (a & !mask == 0 || a & !mask == !mask);
                if on_link && !network_or_broadcast {
                    let request = frames::arp_frame(
                        MacAddr::BROADCAST,
                        ArpOperation::REQUEST,
                        peer,
                        address,
                        MacAddr::ZERO,
                        interface.address,
                    );
                    self.inject(index, request);
                }
            }
        }
        self.collect()
    }

    /// In `--arp=auto`, a request from the target for an address the runner plays gets a
    /// reply from the peer MAC [RFC 826, "Packet Reception"].
    fn answer_arp(&mut self, frame: &SentFrame, arp: ArpEthernetIpv4) {
        if arp.operation != ArpOperation::REQUEST || !self.played.contains(&arp.target_ip) {
            return;
        }
        let peer = self.session.network.peer_mac;
        let reply = frames::arp_frame(
            arp.sender_mac,
            ArpOperation::REPLY,
            peer,
            arp.target_ip,
            arp.sender_mac,
            arp.sender_ip,
        );
        self.inject(frame.interface, reply);
    }

    /// Lets time pass up to script time `to`, collecting frames, answering ARP and retrying a
    /// pending call. With `stop_on_frame`, returns as soon as a frame is queued.
    fn advance_to(&mut self, to: Duration, stop_on_frame: bool) -> Step {
        self.advance_with_step(to, stop_on_frame, COARSE_STEP)
    }

    fn fine_step(&self) -> Duration {
        (self.tolerance / 4).max(MIN_FINE_STEP)
    }

    fn advance_with_step(&mut self, to: Duration, stop_on_frame: bool, step: Duration) -> Step {
        let goal = self.live(to);
        loop {
            self.collect()?;
            self.retry_pending()?;
            if stop_on_frame && !self.queue.is_empty() {
                return Ok(());
            }
            let now = self.target.now();
            if now >= goal {
                return Ok(());
            }
            let step = if self.pending.is_some() {
                step.min(self.fine_step())
            } else {
                step
            };
            let next = goal.min(now.saturating_add(step));
            self.target.advance_to(next);
            if self.target.now() <= now {
                return Err(Stop {
                    verdict: Verdict::Inconclusive,
                    reason: format!(
                        "target {} did not advance its clock from {} to {}",
                        self.target.name(),
                        secs(self.script_time(now)),
                        secs(self.script_time(next))
                    ),
                    detail: Vec::new(),
                });
            }
        }
    }

    /// Fails if the target sent something the script did not expect by now.
    fn no_unexpected(&mut self, line: usize, when: &str) -> Step {
        while let Some(frame) = self.queue.front().cloned() {
            if !self.absorb_repeat(&frame) {
                break;
            }
            self.queue.pop_front();
        }
        let Some(frame) = self.queue.front() else {
            return Ok(());
        };
        let described = self.session.describe(frame);
        let at = self.script_time(frame.at);
        Err(Stop::fail(
            format!("line {line}: unexpected packet {when}: {described}"),
            vec![format!(
                "line {line}: the target sent at {} (eth{}) a packet \
                 the script does not expect: {described}",
                secs(at),
                frame.interface
            )],
        ))
    }

    /// Whether `frame` is one more copy of the packet of an open `repeated` or `optional`
    /// line, sent within its window; counts it if so.
    fn absorb_repeat(&mut self, frame: &SentFrame) -> bool {
        let at = self.script_time(frame.at);
        for i in 0..self.repeats.len() {
            if at < self.repeats[i].from || at > self.repeats[i].deadline {
                continue;
            }
            if self
                .session
                .compare(&self.repeats[i].packet, frame)
                .mismatches
                .is_empty()
            {
                let repeat = &mut self.repeats[i];
                repeat.count += 1;
                repeat.first.get_or_insert(at);
                repeat.last = at;
                return true;
            }
        }
        false
    }

    /// Closes the open `repeated` and `optional` lines (the next outbound line matched, or
    /// the script ended), noting how often their packets came.
    fn end_repeat(&mut self) {
        for r in std::mem::take(&mut self.repeats) {
            let note = match r.first {
                None => format!("line {}: the optional packet did not come", r.line),
                Some(first) => format!(
                    "line {}: the packet came {} time{}, from {} to {}",
                    r.line,
                    r.count,
                    if r.count == 1 { "" } else { "s" },
                    secs(first),
                    secs(r.last)
                ),
            };
            self.notes.push(note);
        }
    }

    fn outbound(&mut self, event: &Event, packet: &PacketEvent, window: Window) -> Step {
        let expected_text = observe::render_expected(packet);
        let deadline = if window.any {
            window.end
        } else {
            window.end.saturating_add(self.tolerance)
        };
        let watch_from = window.start.saturating_sub(self.tolerance);
        if packet.times == Times::Optional {
            // Nothing to wait for: copies are accepted from now until the window ends (a
            // copy sent before the window starts is unexpected, as for any line).
            self.repeats.push(Repeat {
                line: event.line,
                packet: packet.clone(),
                from: if window.any { window.start } else { watch_from },
                deadline,
                count: 0,
                first: None,
                last: Duration::ZERO,
            });
            return Ok(());
        }
        let (frame, late, comparison) = loop {
            if self.queue.is_empty() {
                self.advance_to(watch_from, true)?;
            }
            if self.queue.is_empty() {
                let step = if window.any {
                    COARSE_STEP
                } else {
                    self.fine_step()
                };
                self.advance_with_step(deadline, true, step)?;
            }
            let (frame, late) = match self.queue.pop_front() {
                Some(frame) => (frame, false),
                None => {
                    // Nothing in time: watch a little longer to tell "late" from "never".
                    let watch = deadline.saturating_add(LATE_WATCH.max(self.tolerance * 4));
                    self.advance_with_step(
                        watch,
                        true,
                        self.fine_step().max(Duration::from_millis(1)),
                    )?;
                    match self.queue.pop_front() {
                        Some(frame) => (frame, true),
                        None => {
                            return Err(Stop::fail(
                                format!(
                                    "line {}: expected packet not sent: {expected_text}",
                                    event.line
                                ),
                                vec![format!(
                                    "line {}: expected {expected_text} {}; the \
                                     target sent nothing until {}",
                                    event.line,
                                    describe_window(window, self.tolerance),
                                    secs(self.now())
                                )],
                            ))
                        }
                    }
                }
            };
            let comparison = self.session.compare(packet, &frame);
            // The next line's packet ends an open `repeated` line; anything else that
            // matches the repeated packet in its window is one more copy of it.
            if !comparison.mismatches.is_empty() && self.absorb_repeat(&frame) {
                continue;
            }
            break (frame, late, comparison);
        };
        let at = self.script_time(frame.at);
        if !comparison.mismatches.is_empty() {
            let fields: Vec<&str> = comparison
                .mismatches
                .iter()
                .map(|m| m.field.as_str())
                .collect();
            let mut text = format!(
                "line {}: expected {expected_text}  got {}: ",
                event.line, comparison.got
            );
            let diffs: Vec<String> = comparison
                .mismatches
                .iter()
                .map(|m| m.to_string())
                .collect();
            text.push_str(&diffs.join("; "));
            let mut detail = vec![text];
            detail.push(format!(
                "line {}: the packet was sent at {} (eth{}); expected {}",
                event.line,
                secs(at),
                frame.interface,
                describe_window(window, self.tolerance)
            ));
            return Err(Stop::fail(
                format!(
                    "line {}: outbound packet differs in {}",
                    event.line,
                    fields.join(", ")
                ),
                detail,
            ));
        }
        let early = !window.any && at.saturating_add(self.tolerance) < window.start;
        if early || late {
            let how = if early { "early" } else { "late" };
            return Err(self.timing(
                format!(
                    "line {}: packet sent too {how}: at {}, expected {}",
                    event.line,
                    secs(at),
                    describe_window(window, self.tolerance)
                ),
                vec![format!(
                    "line {}: {expected_text} matched {} but was sent at {}, expected {}",
                    event.line,
                    comparison.got,
                    secs(at),
                    describe_window(window, self.tolerance)
                )],
            ));
        }
        self.checked += 1;
        self.end_repeat();
        if packet.times == Times::Repeated {
            self.repeats.push(Repeat {
                line: event.line,
                packet: packet.clone(),
                from: at,
                deadline,
                count: 1,
                first: Some(at),
                last: at,
            });
        }
        self.last_time = if window.any || window.start != window.end {
            at
        } else {
            window.start
        };
        Ok(())
    }

    /// A missed timing window: a failure in virtual time, inconclusive in real time.
    fn timing(&self, reason: String, detail: Vec<String>) -> Stop {
        Stop {
            verdict: if self.profile.real_time {
                Verdict::Inconclusive
            } else {
                Verdict::Fail
            },
            reason,
            detail,
        }
    }

    fn call(&mut self, event: &Event, call: &super::script::CallEvent, window: Window) -> Step {
        let at = if window.any { self.now() } else { window.start };
        self.advance_to(at, false)?;
        self.no_unexpected(event.line, "before the call")?;
        self.last_time = at;
        let text = calls::render_call(call);
        let translated = calls::translate(call, &mut self.fds, &mut self.session)
            .map_err(|e| self.translate_error(event.line, &text, e))?;
        let expected = calls::Expected::from_call(call);
        let socket_call = match translated {
            calls::Translated::Local { value, note } => {
                if let Some(note) = note {
                    self.notes.push(format!("line {}: {note}", event.line));
                }
                return self.check_result(
                    event.line,
                    &text,
                    &expected,
                    CallOutcome::Ok(CallOk::value(value)),
                    None,
                );
            }
            calls::Translated::Call(c) => c,
        };
        let blocking_window = matches!(event.time, TimeSpec::Blocking { .. });
        if self.pending.is_some() && calls::may_block(&socket_call) {
            let other = self.pending.as_ref().map_or(0, |p| p.line);
            return Err(Stop::fail(
                format!(
                    "line {}: a second blocking call while the call \
                     on line {other} has not returned",
                    event.line
                ),
                Vec::new(),
            ));
        }
        let outcome = self.target.call(&socket_call);
        self.collect()?;
        let blocking_fd = self.fds.is_blocking(&socket_call, call);
        if blocking_fd
            && calls::would_block(&socket_call, &outcome, 0)
            && !expected.expects_would_block()
        {
            let (earliest, latest) = if blocking_window {
                (window.start, window.end)
            } else {
                (at, at)
            };
            let written = match (&socket_call, &outcome) {
                (SocketCall::Write { .. }, CallOutcome::Ok(ok)) => {
                    usize::try_from(ok.value).unwrap_or(0)
                }
                _ => 0,
            };
            self.pending = Some(PendingCall {
                line: event.line,
                text,
                expected,
                call: calls::continuation(&socket_call, written),
                written,
                earliest,
                latest,
            });
            if !blocking_window {
                // A call the script expects back at once: give it the tolerance, then it
                // must have returned.
                let deadline = at.saturating_add(self.tolerance);
                self.advance_with_step(deadline, false, self.fine_step())?;
                self.retry_pending()?;
                if let Some(p) = self.pending.take() {
                    return Err(self.timing(
                        format!(
                            "line {}: {} blocked; the script expects it to return at {}",
                            p.line,
                            p.text,
                            secs(at)
                        ),
                        vec![format!(
                            "line {}: {} was still blocked at {} \
                             (a call that may block needs a `start...end` time)",
                            p.line,
                            p.text,
                            secs(self.now())
                        )],
                    ));
                }
            }
            return Ok(());
        }
        let returned = self.now();
        self.check_result(event.line, &text, &expected, outcome, Some(&socket_call))?;
        if blocking_window {
            self.check_return_time(event.line, &text, returned, window.start, window.end)?;
        }
        Ok(())
    }

    fn translate_error(&self, line: usize, text: &str, error: calls::TranslateError) -> Stop {
        match error {
            calls::TranslateError::Unsupported(why) => {
                Stop::not_applicable(format!("line {line}: {text}: {why}"))
            }
            calls::TranslateError::Bad(why) => {
                Stop::fail(format!("line {line}: {text}: {why}"), Vec::new())
            }
        }
    }

    fn check_result(
        &mut self,
        line: usize,
        text: &str,
        expected: &calls::Expected,
        outcome: CallOutcome,
        call: Option<&SocketCall>,
    ) -> Step {
        let outcome = match outcome {
            // Targets may leave blocking to the runner entirely.
            CallOutcome::Unsupported(_)
                if matches!(call, Some(SocketCall::SetNonBlocking { .. })) =>
            {
                CallOutcome::Ok(CallOk::value(0))
            }
            CallOutcome::Unsupported(why) => {
                return Err(Stop::not_applicable(format!(
                    "line {line}: target {} cannot do {text}: {why}",
                    self.target.name()
                )))
            }
            other => other,
        };
        // A script that requires SO_RCVBUF to be exact reads it back exactly too.
        let exact_receive_buffer = matches!(
            call,
            Some(SocketCall::GetOption {
                option: SocketOption::ReceiveBuffer,
                ..
            })
        ) && self
            .script
            .requires
            .iter()
            .any(|f| f == "exact-receive-buffer");
        let check_buffer_sizes = self.options.check_buffer_sizes || exact_receive_buffer;
        let compared = expected.compare(&outcome, call, &self.fds, check_buffer_sizes);
        if let Some(note) = compared.note {
            self.notes.push(format!("line {line}: {note}"));
        }
        if let Some(mismatch) = compared.mismatch {
            return Err(Stop::fail(
                format!(
                    "line {line}: {text} returned {}",
                    calls::render_outcome(&outcome, call)
                ),
                vec![format!("line {line}: {text}: {mismatch}")],
            ));
        }
        if let (Some(c), CallOutcome::Ok(result)) = (call, &outcome) {
            calls::after_success(c, &expected.event, result, &mut self.fds, &mut self.session);
        }
        self.checked += 1;
        Ok(())
    }

    fn check_return_time(
        &mut self,
        line: usize,
        text: &str,
        returned: Duration,
        earliest: Duration,
        latest: Duration,
    ) -> Step {
        let early = returned.saturating_add(self.tolerance) < earliest;
        let late = returned > latest.saturating_add(self.tolerance);
        if early || late {
            let how = if early { "early" } else { "late" };
            return Err(self.timing(
                format!(
                    "line {line}: {text} returned too {how}: at {}, expected {}",
                    secs(returned),
                    secs(latest)
                ),
                vec![format!(
                    "line {line}: {text} returned at {}, expected at {} (±{})",
                    secs(returned),
                    secs(latest),
                    secs(self.tolerance)
                )],
            ));
        }
        Ok(())
    }

    /// Retries the pending blocking call; checks its result and time when it returns, and
    /// fails it when its window has passed.
    fn retry_pending(&mut self) -> Step {
        let Some(mut pending) = self.pending.take() else {
            return Ok(());
        };
        let outcome = self.target.call(&pending.call);
        let now = self.now();
        if calls::would_block(&pending.call, &outcome, pending.written) {
            if let (SocketCall::Write { .. }, CallOutcome::Ok(ok)) = (&pending.call, &outcome) {
                let n = usize::try_from(ok.value).unwrap_or(0);
                pending.written += n;
                pending.call = calls::continuation(&pending.call, n);
            }
            if now > pending.latest.saturating_add(self.tolerance) {
                return Err(self.timing(
                    format!(
                        "line {}: {} did not return by {}",
                        pending.line,
                        pending.text,
                        secs(pending.latest)
                    ),
                    vec![format!(
                        "line {}: {} was still blocked at {}, expected to return at {} (±{})",
                        pending.line,
                        pending.text,
                        secs(now),
                        secs(pending.latest),
                        secs(self.tolerance)
                    )],
                ));
            }
            self.pending = Some(pending);
            return Ok(());
        }
        let outcome = calls::finish_blocking(&pending.call, outcome, pending.written);
        let line = pending.line;
        let text = pending.text.clone();
        self.check_result(line, &text, &pending.expected, outcome, Some(&pending.call))?;
        self.check_return_time(line, &text, now, pending.earliest, pending.latest)
    }

    /// End of the script: a pending call must return, and nothing unexpected may be queued.
    fn finish(&mut self) -> Step {
        if let Some(latest) = self.pending.as_ref().map(|p| p.latest) {
            self.advance_with_step(
                latest.saturating_add(self.tolerance),
                false,
                self.fine_step(),
            )?;
            if let Some(p) = self.pending.take() {
                return Err(self.timing(
                    format!("line {}: {} never returned", p.line, p.text),
                    vec![format!(
                        "line {}: {} was still blocked at the end of the \
                         script ({}), expected to return at {}",
                        p.line,
                        p.text,
                        secs(self.now()),
                        secs(p.latest)
                    )],
                ));
            }
        }
        let end = self
            .last_time
            .saturating_add(self.tolerance)
            .max(self.now());
        self.advance_with_step(end, true, self.fine_step())?;
        let last_line = self.script.events.last().map_or(0, |e| e.line);
        if self.options.check_after_last_line {
            self.no_unexpected(last_line, "after the last line")?;
        } else if !self.queue.is_empty() {
            self.notes.push(format!(
                "{} packet(s) sent after the last line not checked (packetdrill semantics)",
                self.queue.len()
            ));
        }
        self.end_repeat();
        if self.ignored_non_ipv4 > 0 {
            self.notes.push(format!(
                "{} non-IPv4 frame{} from the target ignored",
                self.ignored_non_ipv4,
                if self.ignored_non_ipv4 == 1 { "" } else { "s" }
            ));
        }
        Ok(())
    }
}

/// What kind of frame the target sent, for deciding whether the script matches it.
enum FrameClass {
    Arp(ArpEthernetIpv4),
    Igmp,
    Ipv4,
    /// IPv6, LLDP and other non-IPv4 traffic a kernel may emit on its own.
    NotIpv4,
}

fn classify(frame: &[u8]) -> FrameClass {
    let Ok((eth, payload)) = EthernetHeader::parse(frame) else {
        return FrameClass::Ipv4; // malformed: let the matcher report it
    };
    match eth.ether_type {
        EtherType::ARP => match ArpEthernetIpv4::parse(payload) {
            Ok((arp, _)) => FrameClass::Arp(arp),
            Err(_) => FrameClass::Ipv4,
        },
        EtherType::IPV4 => match Ipv4Header::parse_header(payload) {
            Ok((ip, _)) if ip.protocol == IpProtocol::IGMP => FrameClass::Igmp,
            _ => FrameClass::Ipv4,
        },
        _ => FrameClass::NotIpv4,
    }
}

/// `1.250000` seconds.
fn secs(d: Duration) -> String {
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

fn describe_window(w: Window, tolerance: Duration) -> String {
    if w.any {
        return "at any time".to_string();
    }
    let mut s = String::new();
    if w.start == w.end {
        let _ = write!(s, "at {} (±{})", secs(w.start), secs(tolerance));
    } else {
        let _ = write!(
            s,
            "between {} and {} (±{})",
            secs(w.start),
            secs(w.end),
            secs(tolerance)
        );
    }
    s
}
