//! IGMP, host side [RFC 1112 (v1), RFC 2236 (v2), RFC 3376 (v3)]: joining and leaving groups
//! per interface, unsolicited reports repeated to the robustness count, answers to general and
//! group-specific queries after a random delay within the query's maximum response time,
//! v1/v2 report suppression, v3 state-change and current-state reports, compatibility modes
//! when an older querier is heard [RFC 3376 § 7.2], the v2 leave only by the last reporter
//! [RFC 2236 § 3], TTL 1 with the Router Alert option, and the multicast MAC filter
//! [RFC 1112 § 6.4].
//!
//! Sockets join groups in any-source mode only: a membership is EXCLUDE with an empty source
//! list. Source filters (INCLUDE/EXCLUDE lists per socket) are not modelled.

use core::net::Ipv4Addr;
use std::collections::BTreeMap;

use wirecheck_codec::ethernet::MacAddr;
use wirecheck_codec::igmp::{
    self, GroupMessage, GroupRecord, GroupRecordType, GroupRecords, IgmpMessage, QueryVersion,
    SourceList, V3Report,
};
use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header, OptionType};
use wirecheck_codec::time::{Duration, Instant};
use wirecheck_codec::ChecksumStatus;

use crate::iface::InterfaceId;
use crate::ip::SendParams;
use crate::stack::{Origin, Stack, StackError};

/// The all-systems group, of which every host is a member and never reports
/// [RFC 1112 § 4, RFC 3376 § 5].
pub const ALL_SYSTEMS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 1);
/// The all-routers group, destination of v2 leaves [RFC 2236 § 3].
pub const ALL_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 2);
/// The destination of v3 reports [RFC 3376 § 4.2.14].
pub const ALL_IGMPV3_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 22);

/// Router Alert option, value 0 [RFC 2113], carried by v2 and v3 messages.
const ROUTER_ALERT: [u8; 4] = [0x94, 0x04, 0x00, 0x00];

/// The most sources remembered for a pending group-and-source-specific answer.
const MAX_PENDING_SOURCES: usize = 64;

/// An IGMP version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IgmpVersion {
    /// RFC 1112.
    V1,
    /// RFC 2236.
    V2,
    /// RFC 3376.
    V3,
}

/// IGMP host settings (defaults from RFC 3376 § 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IgmpConfig {
    /// The highest version spoken; lower when an older querier is heard.
    pub version: IgmpVersion,
    /// Robustness Variable: how many times unsolicited reports are sent (2).
    pub robustness: u8,
    /// Spread of repeated unsolicited reports in v3 (1 s, [RFC 3376 § 8.11]).
    pub unsolicited_report_interval_v3: Duration,
    /// Spread of repeated unsolicited reports in v1 and v2 (10 s, [RFC 2236 § 8.10]).
    pub unsolicited_report_interval: Duration,
    /// Query Interval (125 s), for the Older Version Querier Present Timeout.
    pub query_interval: Duration,
    /// Query Response Interval (10 s), likewise.
    pub query_response_interval: Duration,
    /// Most groups joined per interface.
    pub max_groups: usize,
    /// Ignore v2 and v3 queries that lack the IP Router Alert option (on by default), as hosts
    /// SHOULD [RFC 3376 § 9.1]: every v2 and v3 querier sends it [RFC 2236 § 2, RFC 3376 § 4],
    /// so a query without it was most likely forged off the link. v1 queries never carry it.
    pub require_router_alert: bool,
}

impl Default for IgmpConfig {
    fn default() -> IgmpConfig {
        IgmpConfig {
            version: IgmpVersion::V3,
            robustness: 2,
            unsolicited_report_interval_v3: Duration::from_secs(1),
            unsolicited_report_interval: Duration::from_secs(10),
            query_interval: Duration::from_secs(125),
            query_response_interval: Duration::from_secs(10),
            max_groups: 32,
            require_router_alert: true,
        }
    }
}

impl IgmpConfig {
    /// Older Version Querier Present Timeout: Robustness × Query Interval + Query Response
    /// Interval [RFC 3376 § 8.12].
    fn older_querier_timeout(&self) -> Duration {
        Duration::from_micros(
            u64::from(self.robustness)
                .saturating_mul(self.query_interval.as_micros())
                .saturating_add(self.query_response_interval.as_micros()),
        )
    }
}

#[derive(Debug, Clone, Default)]
struct Membership {
    /// When to answer a query for this group.
    report_at: Option<Instant>,
    /// For v3: the sources a group-and-source-specific query asked about (`None`: the whole
    /// group).
    pending_sources: Option<Vec<Ipv4Addr>>,
    /// Repeats of the unsolicited report (or v3 state change) left, and when the next is due.
    retransmit: Option<(u8, Instant)>,
    /// We sent the last report heard for the group (v2 leave rule).
    last_reporter: bool,
}

/// One interface's IGMP state.
#[derive(Debug, Clone)]
pub(crate) struct IgmpInterface {
    groups: BTreeMap<Ipv4Addr, Membership>,
    /// v3 leaves still being repeated: group → (repeats left, next at).
    leaving: BTreeMap<Ipv4Addr, (u8, Instant)>,
    v1_querier_until: Option<Instant>,
    v2_querier_until: Option<Instant>,
    /// The v3 interface timer: a current-state report of every group.
    general_report_at: Option<Instant>,
    max_version: IgmpVersion,
}

impl IgmpInterface {
    pub(crate) fn new(config: &IgmpConfig) -> IgmpInterface {
        IgmpInterface {
            groups: BTreeMap::new(),
            leaving: BTreeMap::new(),
            v1_querier_until: None,
            v2_querier_until: None,
            general_report_at: None,
            max_version: config.version,
        }
    }

    /// Whether datagrams to `group` are accepted on this interface.
    pub(crate) fn is_member(&self, group: Ipv4Addr) -> bool {
        group == ALL_SYSTEMS || self.groups.contains_key(&group)
    }

    /// Whether frames to a multicast MAC are accepted (the hardware filter): the mapping of
    /// any joined group, all-systems included. The mapping is 32-to-1, so the IP layer checks
    /// the group again.
    pub(crate) fn accepts_mac(&self, mac: MacAddr) -> bool {
        mac == MacAddr::from_ipv4_multicast(ALL_SYSTEMS)
            || self
                .groups
                .keys()
                .any(|g| MacAddr::from_ipv4_multicast(*g) == mac)
    }

    /// The compatibility mode [RFC 3376 § 7.2.1].
    fn mode(&self, now: Instant) -> IgmpVersion {
        if self.v1_querier_until.is_some_and(|t| t > now) {
            IgmpVersion::V1
        } else if self.v2_querier_until.is_some_and(|t| t > now) {
            IgmpVersion::V2.min(self.max_version)
        } else {
            self.max_version
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let groups = self
            .groups
            .values()
            .flat_map(|m| [m.report_at, m.retransmit.map(|r| r.1)])
            .flatten();
        let leaving = self.leaving.values().map(|l| l.1);
        groups.chain(leaving).chain(self.general_report_at).min()
    }

    pub(crate) fn check_invariants(&self, config: &IgmpConfig) {
        assert!(self.groups.len() <= config.max_groups);
        assert!(self.leaving.len() <= config.max_groups);
        for m in self.groups.values() {
            assert!(m
                .pending_sources
                .as_ref()
                .is_none_or(|s| s.len() <= MAX_PENDING_SOURCES));
        }
    }
}

/// What to send.
#[derive(Debug, Clone, Copy)]
enum Report<'a> {
    V1(Ipv4Addr),
    V2(Ipv4Addr),
    Leave(Ipv4Addr),
    V3(&'a [(GroupRecordType, Ipv4Addr, &'a [Ipv4Addr])]),
}

impl Stack {
    /// The groups joined on an interface (all-systems not included).
    pub fn igmp_groups(&self, iface: InterfaceId) -> Vec<Ipv4Addr> {
        self.interface(iface)
            .map(|i| i.igmp.groups.keys().copied().collect())
            .unwrap_or_default()
    }

    /// The version an interface currently speaks (its compatibility mode).
    pub fn igmp_mode(&self, now: Instant, iface: InterfaceId) -> Option<IgmpVersion> {
        self.interface(iface).map(|i| i.igmp.mode(now))
    }

    /// Joins a group on an interface and reports it, unsolicited, Robustness times
    /// [RFC 3376 § 5.1, RFC 2236 § 3, RFC 1112 App. I]. Joining again is a no-op.
    pub fn igmp_join(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        group: Ipv4Addr,
    ) -> Result<(), StackError> {
        if !group.is_multicast() || group == ALL_SYSTEMS {
            return Err(StackError::NotMulticast);
        }
        let max = self.config.igmp.max_groups;
        let robustness = self.config.igmp.robustness.max(1);
        let Some(ifc) = self.interfaces.get_mut(iface.0) else {
            return Err(StackError::InvalidInterface);
        };
        if ifc.address.is_none() {
            return Err(StackError::InvalidInterface);
        }
        if ifc.igmp.groups.contains_key(&group) {
            return Ok(());
        }
        if ifc.igmp.groups.len() >= max {
            return Err(StackError::TooManyGroups);
        }
        ifc.igmp.leaving.remove(&group);
        let mode = ifc.igmp.mode(now);
        ifc.igmp.groups.insert(group, Membership::default());
        let next = self.igmp_unsolicited_delay(mode);
        if let Some(m) = self
            .interfaces
            .get_mut(iface.0)
            .and_then(|i| i.igmp.groups.get_mut(&group))
        {
            m.last_reporter = true;
            m.retransmit = (robustness > 1).then(|| (robustness - 1, now + next));
        }
        self.igmp_send_unsolicited(now, iface, group, mode, true);
        Ok(())
    }

    /// Leaves a group: a v3 state change to INCLUDE {} (repeated), a v2 leave if we were the
    /// last to report the group, nothing in v1 [RFC 3376 § 5.1, RFC 2236 § 3].
    pub fn igmp_leave(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        group: Ipv4Addr,
    ) -> Result<(), StackError> {
        let robustness = self.config.igmp.robustness.max(1);
        let Some(ifc) = self.interfaces.get_mut(iface.0) else {
            return Err(StackError::InvalidInterface);
        };
        let Some(membership) = ifc.igmp.groups.remove(&group) else {
            return Err(StackError::NotJoined);
        };
        let mode = ifc.igmp.mode(now);
        match mode {
            IgmpVersion::V1 => {}
            IgmpVersion::V2 => {
                if membership.last_reporter {
                    self.igmp_send(now, iface, Report::Leave(group));
                }
            }
            IgmpVersion::V3 => {
                let next = self.igmp_unsolicited_delay(mode);
                if robustness > 1 {
                    if let Some(i) = self.interfaces.get_mut(iface.0) {
                        i.igmp.leaving.insert(group, (robustness - 1, now + next));
                    }
                }
                self.igmp_send_unsolicited(now, iface, group, mode, false);
            }
        }
        Ok(())
    }

    fn igmp_unsolicited_delay(&mut self, mode: IgmpVersion) -> Duration {
        let interval = if mode == IgmpVersion::V3 {
            self.config.igmp.unsolicited_report_interval_v3
        } else {
            self.config.igmp.unsolicited_report_interval
        };
        // At least 1 µs so that a repeat is never due at the instant of the first report.
        Duration::from_micros(self.rng.below_or_equal(interval.as_micros()).max(1))
    }

    fn igmp_send_unsolicited(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        group: Ipv4Addr,
        mode: IgmpVersion,
        join: bool,
    ) {
        match mode {
            IgmpVersion::V1 => self.igmp_send(now, iface, Report::V1(group)),
            IgmpVersion::V2 => self.igmp_send(now, iface, Report::V2(group)),
            IgmpVersion::V3 => {
                let kind = if join {
                    GroupRecordType::CHANGE_TO_EXCLUDE
                } else {
                    GroupRecordType::CHANGE_TO_INCLUDE
                };
                self.igmp_send(now, iface, Report::V3(&[(kind, group, &[])]));
            }
        }
    }

    /// Receives an IGMP message.
    pub(crate) fn igmp_input(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        header: &Ipv4Header<'_>,
        payload: &[u8],
    ) {
        self.stats.igmp_in += 1;
        if igmp::verify_checksum(payload) != ChecksumStatus::Good {
            self.stats.igmp_dropped += 1;
            return;
        }
        let Ok(message) = IgmpMessage::parse(payload) else {
            self.stats.igmp_dropped += 1;
            return;
        };
        let timeout = self.config.igmp.older_querier_timeout();
        match message {
            IgmpMessage::Query(query) => {
                let version = query.version();
                let Some(max_resp) = query.max_resp_time() else {
                    // 9–11 octets: ignored [RFC 3376 § 7.1].
                    self.stats.igmp_dropped += 1;
                    return;
                };
                if self.igmp_query_looks_forged(header, version, query.is_general()) {
                    self.stats.igmp_dropped += 1;
                    return;
                }
                let Some(ifc) = self.interfaces.get_mut(iface.0) else {
                    return;
                };
                match version {
                    QueryVersion::V1 => ifc.igmp.v1_querier_until = Some(now + timeout),
                    QueryVersion::V2 if ifc.igmp.max_version == IgmpVersion::V3 => {
                        ifc.igmp.v2_querier_until = Some(now + timeout)
                    }
                    _ => {}
                }
                let mode = ifc.igmp.mode(now);
                if mode != IgmpVersion::V3 {
                    // Switching down cancels pending v3 work [RFC 3376 § 7.2.1].
                    ifc.igmp.general_report_at = None;
                    ifc.igmp.leaving.clear();
                }
                let sources: Vec<Ipv4Addr> = query
                    .v3()
                    .map(|v3| v3.sources.iter().take(MAX_PENDING_SOURCES + 1).collect())
                    .unwrap_or_default();
                let general = query.is_general();
                let group = query.group;
                self.igmp_schedule_answer(now, iface, mode, general, group, max_resp, &sources);
            }
            IgmpMessage::V1Report(m) | IgmpMessage::V2Report(m) => {
                // Another member reported: suppress ours [RFC 2236 § 3, RFC 1112 App. I].
                let Some(ifc) = self.interfaces.get_mut(iface.0) else {
                    return;
                };
                if ifc.igmp.mode(now) == IgmpVersion::V3 {
                    return;
                }
                if let Some(membership) = ifc.igmp.groups.get_mut(&m.group) {
                    if membership.report_at.take().is_some() {
                        membership.last_reporter = false;
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether a query is one a host SHOULD ignore as likely forged [RFC 3376 § 9.1]: a v2 or
    /// v3 query without Router Alert (when [`IgmpConfig::require_router_alert`] is set), or a
    /// general query sent to a multicast address other than 224.0.0.1. A query sent to one of
    /// the interface's own unicast addresses is accepted [RFC 3376 § 4.1.12].
    fn igmp_query_looks_forged(
        &self,
        header: &Ipv4Header<'_>,
        version: QueryVersion,
        general: bool,
    ) -> bool {
        let needs_router_alert = matches!(version, QueryVersion::V2 | QueryVersion::V3);
        if needs_router_alert
            && self.config.igmp.require_router_alert
            && header.options.find(OptionType::ROUTER_ALERT).is_none()
        {
            return true;
        }
        general && header.destination.is_multicast() && header.destination != ALL_SYSTEMS
    }

    #[allow(clippy::too_many_arguments)]
    fn igmp_schedule_answer(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        mode: IgmpVersion,
        general: bool,
        group: Ipv4Addr,
        max_resp: Duration,
        sources: &[Ipv4Addr],
    ) {
        let delay = Duration::from_micros(self.rng.below_or_equal(max_resp.as_micros()));
        let at = now + delay;
        let Some(ifc) = self.interfaces.get_mut(iface.0) else {
            return;
        };
        let sooner = |current: Option<Instant>| Some(current.map_or(at, |c| c.min(at)));
        if mode == IgmpVersion::V3 && general {
            // One interface timer for a current-state report of every group [RFC 3376 § 5.2].
            if !ifc.igmp.groups.is_empty() {
                ifc.igmp.general_report_at = sooner(ifc.igmp.general_report_at);
            }
            return;
        }
        let targets: Vec<Ipv4Addr> = if general {
            ifc.igmp.groups.keys().copied().collect()
        } else if ifc.igmp.groups.contains_key(&group) {
            vec![group]
        } else {
            Vec::new()
        };
        for g in targets {
            let Some(m) = ifc.igmp.groups.get_mut(&g) else {
                continue;
            };
            if mode == IgmpVersion::V3 {
                // A group-specific query (or one already pending) asks for the whole group;
                // otherwise accumulate the sources asked about.
                let had_timer = m.report_at.is_some();
                m.pending_sources = match (&m.pending_sources, sources.is_empty()) {
                    (_, true) => None,
                    (None, false) if had_timer => None,
                    (None, false) => Some(sources.to_vec()),
                    (Some(old), false) => {
                        let mut all = old.clone();
                        all.extend_from_slice(sources);
                        all.sort_unstable();
                        all.dedup();
                        (all.len() <= MAX_PENDING_SOURCES).then_some(all)
                    }
                };
                m.report_at = sooner(m.report_at);
            } else {
                // Reset only if the new delay is shorter than what remains [RFC 2236 § 3].
                m.report_at = sooner(m.report_at);
            }
        }
    }

    /// Sends reports whose timers are due.
    pub(crate) fn igmp_timeout(&mut self, now: Instant) {
        for index in 0..self.interfaces.len() {
            let iface = InterfaceId(index);
            let Some(ifc) = self.interfaces.get_mut(index) else {
                continue;
            };
            let mode = ifc.igmp.mode(now);
            // The v3 current-state report of every group.
            if ifc.igmp.general_report_at.is_some_and(|t| t <= now) {
                ifc.igmp.general_report_at = None;
                let groups: Vec<Ipv4Addr> = ifc.igmp.groups.keys().copied().collect();
                let records: Vec<(GroupRecordType, Ipv4Addr, &[Ipv4Addr])> = groups
                    .iter()
                    .map(|g| (GroupRecordType::MODE_IS_EXCLUDE, *g, &[][..]))
                    .collect();
                for chunk in records.chunks(64) {
                    self.igmp_send(now, iface, Report::V3(chunk));
                }
            }
            // Query answers and unsolicited repeats, group by group.
            let Some(ifc) = self.interfaces.get_mut(index) else {
                continue;
            };
            let mut answers = Vec::new();
            let mut repeats = Vec::new();
            for (group, m) in ifc.igmp.groups.iter_mut() {
                if m.report_at.is_some_and(|t| t <= now) {
                    m.report_at = None;
                    m.last_reporter = true;
                    answers.push((*group, m.pending_sources.take()));
                }
                if let Some((left, at)) = m.retransmit {
                    if at <= now {
                        m.retransmit = None;
                        repeats.push((*group, left));
                    }
                }
            }
            let mut leaves = Vec::new();
            for (group, (left, at)) in ifc.igmp.leaving.iter() {
                if *at <= now {
                    leaves.push((*group, *left));
                }
            }
            for (group, sources) in answers {
                match (mode, sources) {
                    (IgmpVersion::V1, _) => self.igmp_send(now, iface, Report::V1(group)),
                    (IgmpVersion::V2, _) => self.igmp_send(now, iface, Report::V2(group)),
                    (IgmpVersion::V3, None) => self.igmp_send(
                        now,
                        iface,
                        Report::V3(&[(GroupRecordType::MODE_IS_EXCLUDE, group, &[])]),
                    ),
                    // EXCLUDE {} with a source-specific query: IS_IN of the sources asked
                    // about, all of which we receive [RFC 3376 § 5.2].
                    (IgmpVersion::V3, Some(sources)) => self.igmp_send(
                        now,
                        iface,
                        Report::V3(&[(GroupRecordType::MODE_IS_INCLUDE, group, &sources)]),
                    ),
                }
            }
            for (group, left) in repeats {
                self.igmp_send_unsolicited(now, iface, group, mode, true);
                let next = now + self.igmp_unsolicited_delay(mode);
                if let Some(m) = self
                    .interfaces
                    .get_mut(index)
                    .and_then(|i| i.igmp.groups.get_mut(&group))
                {
                    m.last_reporter = true;
                    m.retransmit = (left > 1).then(|| (left - 1, next));
                }
            }
            for (group, left) in leaves {
                self.igmp_send_unsolicited(now, iface, group, mode, false);
                let next = now + self.igmp_unsolicited_delay(mode);
                if let Some(i) = self.interfaces.get_mut(index) {
                    if left > 1 {
                        i.igmp.leaving.insert(group, (left - 1, next));
                    } else {
                        i.igmp.leaving.remove(&group);
                    }
                }
            }
        }
    }

    pub(crate) fn igmp_next_deadline(&self) -> Option<Instant> {
        self.interfaces
            .iter()
            .filter_map(|i| i.igmp.next_deadline())
            .min()
    }

    /// Sends an IGMP message with TTL 1 (and Router Alert for v2 and v3) from the interface's
    /// address.
    fn igmp_send(&mut self, now: Instant, iface: InterfaceId, report: Report<'_>) {
        let mut records_buf = Vec::new();
        let mut sources_bufs: Vec<Vec<u8>> = Vec::new();
        let (destination, message, options): (Ipv4Addr, IgmpMessage<'_>, &[u8]) = match report {
            Report::V1(group) => (group, IgmpMessage::V1Report(group_message(group)), &[]),
            Report::V2(group) => (
                group,
                IgmpMessage::V2Report(group_message(group)),
                &ROUTER_ALERT,
            ),
            Report::Leave(group) => (
                ALL_ROUTERS,
                IgmpMessage::V2Leave(group_message(group)),
                &ROUTER_ALERT,
            ),
            Report::V3(records) => {
                for (_, _, sources) in records {
                    let mut b = vec![0u8; sources.len() * 4];
                    let _ = SourceList::write(sources, &mut b);
                    sources_bufs.push(b);
                }
                let typed: Vec<GroupRecord<'_>> = records
                    .iter()
                    .zip(&sources_bufs)
                    .map(|((kind, group, sources), b)| GroupRecord {
                        record_type: *kind,
                        aux_data_len: 0,
                        number_of_sources: sources.len() as u16,
                        multicast_address: *group,
                        sources: SourceList::new(b).unwrap_or_default(),
                        aux_data: &[],
                    })
                    .collect();
                let len: usize = typed.iter().map(|r| r.len()).sum();
                records_buf = vec![0u8; len];
                if GroupRecords::write(&typed, &mut records_buf).is_err() {
                    return;
                }
                let Ok(records) = GroupRecords::new(&records_buf) else {
                    return;
                };
                (
                    ALL_IGMPV3_ROUTERS,
                    IgmpMessage::V3Report(V3Report {
                        reserved1: 0,
                        checksum: 0,
                        reserved2: 0,
                        number_of_group_records: records.len() as u16,
                        records,
                        additional_data: &[],
                    }),
                    &ROUTER_ALERT,
                )
            }
        };
        let mut buf = vec![0u8; message.len()];
        if message.emit(&mut buf).is_err() {
            return;
        }
        let Ok(route) = self.route_output(destination, Some(iface)) else {
            return;
        };
        let params = SendParams {
            source: route.source,
            protocol: IpProtocol::IGMP,
            ttl: 1,
            dont_fragment: false,
            options,
            origin: Origin::Stack(IpProtocol::IGMP),
        };
        if self.ip_send(now, &route, params, &buf).is_ok() {
            self.stats.igmp_out += 1;
        }
        drop(records_buf);
    }
}

fn group_message(group: Ipv4Addr) -> GroupMessage<'static> {
    GroupMessage {
        code: 0,
        checksum: 0,
        group,
        additional_data: &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use crate::Config;
    use wirecheck_codec::ethernet::EtherType;

    const IF0: InterfaceId = InterfaceId(0);
    const GROUP: Ipv4Addr = Ipv4Addr::new(239, 5, 5, 5);

    fn igmp_sent(s: &mut Stack) -> Vec<(Ipv4Addr, Vec<u8>, u8, Vec<u8>)> {
        sent(s)
            .into_iter()
            .filter_map(|d| match d {
                Decoded::Ipv4 {
                    destination,
                    payload,
                    ttl,
                    options,
                    ..
                } => Some((destination, payload, ttl, options)),
                _ => None,
            })
            .collect()
    }

    fn query(s: &mut Stack, t: Instant, payload: &[u8], dst: Ipv4Addr) {
        query_with_options(s, t, payload, dst, &ROUTER_ALERT);
    }

    fn query_with_options(
        s: &mut Stack,
        t: Instant,
        payload: &[u8],
        dst: Ipv4Addr,
        options: &[u8],
    ) {
        let dst_mac = if dst.is_multicast() {
            MacAddr::from_ipv4_multicast(dst)
        } else {
            HOST_MAC
        };
        let f = ipv4_frame(
            dst_mac,
            PEER_MAC,
            PEER,
            dst,
            IpProtocol::IGMP,
            1,
            options,
            payload,
        );
        s.handle_frame(t, IF0, &f);
    }

    /// Whether a v2 report for `GROUP` is sent within the 10 s a query asked for.
    fn answers_within_10s(s: &mut Stack, t: Instant) -> bool {
        s.handle_timeout(t + Duration::from_secs(10));
        igmp_sent(s)
            .iter()
            .any(|o| o.1[0] == 0x16 || o.1[0] == 0x22)
    }

    #[test]
    fn likely_forged_queries_are_ignored() {
        // [RFC 3376 § 9.1]: hosts SHOULD ignore v2/v3 queries without Router Alert, and
        // general queries sent to a multicast address other than 224.0.0.1.
        let general_v2 = igmp_query_v1v2(100, Ipv4Addr::UNSPECIFIED);
        let general_v3 = igmp_query_v3(100, Ipv4Addr::UNSPECIFIED, &[]);
        let cases: [(&[u8], Ipv4Addr, &[u8], bool); 6] = [
            (&general_v2, ALL_SYSTEMS, &ROUTER_ALERT, true),
            (&general_v2, ALL_SYSTEMS, &[], false),
            (&general_v3, ALL_SYSTEMS, &[], false),
            (&general_v3, GROUP, &ROUTER_ALERT, false),
            (&general_v2, GROUP, &ROUTER_ALERT, false),
            // A query to the host's own unicast address MUST be accepted [§ 4.1.12].
            (&general_v3, HOST, &ROUTER_ALERT, true),
        ];
        for (i, (payload, dst, options, answered)) in cases.into_iter().enumerate() {
            let mut s = host(Config::default());
            s.igmp_join(Instant::ZERO, IF0, GROUP).unwrap();
            s.handle_timeout(Instant::from_secs(5));
            let _ = igmp_sent(&mut s);
            let t = Instant::from_secs(10);
            let dropped = s.stats().igmp_dropped;
            query_with_options(&mut s, t, payload, dst, options);
            assert_eq!(answers_within_10s(&mut s, t), answered, "case {i}");
            assert_eq!(
                s.stats().igmp_dropped - dropped,
                u64::from(!answered),
                "case {i}"
            );
            // An ignored v2 query does not switch the host to v2 compatibility mode either.
            if payload.len() == 8 && !answered {
                assert_eq!(s.igmp_mode(t, IF0), Some(IgmpVersion::V3), "case {i}");
            }
        }
    }

    #[test]
    fn router_alert_requirement_can_be_switched_off() {
        let mut config = Config::default();
        config.igmp.require_router_alert = false;
        let mut s = host(config);
        s.igmp_join(Instant::ZERO, IF0, GROUP).unwrap();
        s.handle_timeout(Instant::from_secs(5));
        let _ = igmp_sent(&mut s);
        let t = Instant::from_secs(10);
        let general_v3 = igmp_query_v3(100, Ipv4Addr::UNSPECIFIED, &[]);
        query_with_options(&mut s, t, &general_v3, ALL_SYSTEMS, &[]);
        assert!(answers_within_10s(&mut s, t));
    }

    #[test]
    fn v1_mode_reports_without_router_alert_and_never_leaves() {
        let mut config = Config::default();
        config.igmp.version = IgmpVersion::V1;
        let mut s = host(config);
        s.igmp_join(Instant::ZERO, IF0, GROUP).unwrap();
        let out = igmp_sent(&mut s);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, GROUP);
        assert_eq!(out[0].1[0], 0x12);
        assert_eq!(out[0].2, 1);
        assert!(out[0].3.is_empty());
        s.igmp_leave(Instant::ZERO, IF0, GROUP).unwrap();
        assert!(igmp_sent(&mut s).is_empty());
    }

    #[test]
    fn a_v1_query_switches_a_v3_host_to_v1() {
        let mut s = host(Config::default());
        s.igmp_join(Instant::ZERO, IF0, GROUP).unwrap();
        let _ = igmp_sent(&mut s);
        let t = Instant::from_secs(5);
        query(
            &mut s,
            t,
            &igmp_query_v1v2(0, Ipv4Addr::UNSPECIFIED),
            ALL_SYSTEMS,
        );
        assert_eq!(s.igmp_mode(t, IF0), Some(IgmpVersion::V1));
        // The answer comes within 10 s, as a v1 report.
        s.handle_timeout(t + Duration::from_secs(10));
        let out = igmp_sent(&mut s);
        assert!(out.iter().any(|o| o.1[0] == 0x12), "{out:?}");
    }

    #[test]
    fn group_and_source_specific_query_answered_with_is_include() {
        let mut s = host(Config::default());
        s.igmp_join(Instant::ZERO, IF0, GROUP).unwrap();
        s.handle_timeout(Instant::from_secs(5));
        let _ = igmp_sent(&mut s);
        let src = Ipv4Addr::new(10, 0, 0, 99);
        query(
            &mut s,
            Instant::from_secs(10),
            &igmp_query_v3(10, GROUP, &[src]),
            GROUP,
        );
        s.handle_timeout(Instant::from_secs(12));
        let out = igmp_sent(&mut s);
        assert_eq!(out.len(), 1);
        let IgmpMessage::V3Report(r) = IgmpMessage::parse(&out[0].1).unwrap() else {
            panic!()
        };
        let rec: Vec<_> = r.records.iter().collect();
        assert_eq!(rec[0].record_type, GroupRecordType::MODE_IS_INCLUDE);
        assert_eq!(rec[0].sources.iter().collect::<Vec<_>>(), vec![src]);
    }

    #[test]
    fn queries_of_other_lengths_and_bad_checksums_are_ignored() {
        let mut s = host(Config::default());
        s.igmp_join(Instant::ZERO, IF0, GROUP).unwrap();
        s.handle_timeout(Instant::from_secs(5));
        let mut q = igmp_query_v1v2(10, Ipv4Addr::UNSPECIFIED);
        q.push(0);
        let sum = wirecheck_codec::checksum::internet_checksum(&{
            let mut z = q.clone();
            z[2] = 0;
            z[3] = 0;
            z
        });
        q[2..4].copy_from_slice(&sum.to_be_bytes());
        query(&mut s, Instant::from_secs(6), &q, ALL_SYSTEMS);
        let mut bad = igmp_query_v1v2(10, Ipv4Addr::UNSPECIFIED);
        bad[7] ^= 1;
        query(&mut s, Instant::from_secs(6), &bad, ALL_SYSTEMS);
        assert_eq!(s.stats().igmp_dropped, 2);
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn mac_filter_and_join_rules() {
        let mut s = host(Config::default());
        assert_eq!(
            s.igmp_join(Instant::ZERO, IF0, ALL_SYSTEMS),
            Err(StackError::NotMulticast)
        );
        assert_eq!(
            s.igmp_join(Instant::ZERO, IF0, PEER),
            Err(StackError::NotMulticast)
        );
        assert_eq!(
            s.igmp_leave(Instant::ZERO, IF0, GROUP),
            Err(StackError::NotJoined)
        );
        let f = ethernet(
            MacAddr::from_ipv4_multicast(GROUP),
            PEER_MAC,
            EtherType::IPV4,
            &[0x45; 40],
        );
        let before = s.stats().frames_dropped;
        s.handle_frame(Instant::ZERO, IF0, &f);
        assert_eq!(s.stats().frames_dropped, before + 1, "filtered by MAC");
        s.igmp_join(Instant::ZERO, IF0, GROUP).unwrap();
        s.igmp_join(Instant::ZERO, IF0, GROUP).unwrap();
        assert_eq!(s.igmp_groups(IF0), vec![GROUP]);
        let mut config = Config::default();
        config.igmp.max_groups = 1;
        let mut s = host(config);
        s.igmp_join(Instant::ZERO, IF0, GROUP).unwrap();
        assert_eq!(
            s.igmp_join(Instant::ZERO, IF0, Ipv4Addr::new(239, 0, 0, 9)),
            Err(StackError::TooManyGroups)
        );
    }

    #[test]
    fn v3_leave_is_repeated() {
        let mut s = host(Config::default());
        s.igmp_join(Instant::ZERO, IF0, GROUP).unwrap();
        s.handle_timeout(Instant::from_secs(5));
        let _ = igmp_sent(&mut s);
        s.igmp_leave(Instant::from_secs(10), IF0, GROUP).unwrap();
        s.handle_timeout(Instant::from_secs(12));
        let out = igmp_sent(&mut s);
        assert_eq!(out.len(), 2);
        for o in &out {
            let IgmpMessage::V3Report(r) = IgmpMessage::parse(&o.1).unwrap() else {
                panic!()
            };
            assert_eq!(
                r.records.iter().next().unwrap().record_type,
                GroupRecordType::CHANGE_TO_INCLUDE
            );
        }
        assert_eq!(s.poll_timeout(), None);
    }
}
