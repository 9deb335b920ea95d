//! ARP for Ethernet and IPv4 [RFC 826; RFC 1122 § 2.3.2]: the cache with per-entry expiry,
//! the RFC 826 merge rule on receipt, replies to requests for our addresses, gratuitous ARP
//! when an address is configured, and one bounded queue of datagrams per address being
//! resolved, with requests rate-limited to one per interval per address and a give-up count
//! after which the queued datagrams are dropped and reported (an event for local senders,
//! ICMP host unreachable for forwarded datagrams) [RFC 1122 § 2.3.2.1, § 2.3.2.2].

use core::net::Ipv4Addr;
use std::collections::{BTreeMap, VecDeque};

use wirecheck_codec::arp::{ArpOperation, ArpPacket, HardwareType};
use wirecheck_codec::ethernet::{EtherType, MacAddr};
use wirecheck_codec::ipv4::IpProtocol;
use wirecheck_codec::time::{Duration, Instant};

use crate::iface::InterfaceId;
use crate::stack::{Event, Origin, SendFailure, Stack};

/// ARP limits and timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpConfig {
    /// How long a learned binding is used before it must be learned again (20 minutes, the
    /// BSD default; RFC 1122 § 2.3.2.1 asks for a timeout without fixing it).
    pub entry_lifetime: Duration,
    /// Most entries, resolved and pending, over all interfaces. When full, the resolved entry
    /// closest to expiry is evicted; if every entry is pending, the new one is refused.
    pub max_entries: usize,
    /// Most datagrams waiting for one address; the oldest is dropped to make room
    /// [RFC 1122 § 2.3.2.2 "SHOULD save at least one"].
    pub max_pending_per_address: usize,
    /// The least time between two requests for one address (1 s [RFC 1122 § 2.3.2.1]).
    pub request_interval: Duration,
    /// Requests sent for an address before giving up.
    pub max_requests: u32,
}

impl Default for ArpConfig {
    fn default() -> ArpConfig {
        ArpConfig {
            entry_lifetime: Duration::from_secs(20 * 60),
            max_entries: 256,
            max_pending_per_address: 16,
            request_interval: Duration::from_secs(1),
            max_requests: 3,
        }
    }
}

/// A datagram waiting for its next hop's MAC address.
#[derive(Debug, Clone)]
pub(crate) struct PendingDatagram {
    pub(crate) datagram: Vec<u8>,
    pub(crate) origin: Origin,
}

#[derive(Debug, Clone)]
pub(crate) enum ArpEntry {
    Resolved {
        mac: MacAddr,
        expires: Instant,
    },
    Pending {
        queue: VecDeque<PendingDatagram>,
        last_request: Instant,
        requests_sent: u32,
    },
}

/// One entry as [`Stack::arp_entries`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpEntryState {
    /// Resolved, usable until `expires`.
    Resolved {
        /// The MAC address.
        mac: MacAddr,
        /// When it expires.
        expires: Instant,
    },
    /// Being resolved, with `queued` datagrams waiting.
    Pending {
        /// Datagrams waiting.
        queued: usize,
        /// Requests sent so far.
        requests_sent: u32,
    },
}

/// The ARP cache: one entry per (interface, address); a `BTreeMap` so that every walk over it
/// is in a fixed order (deterministic output).
#[derive(Debug, Clone, Default)]
pub(crate) struct ArpCache {
    pub(crate) entries: BTreeMap<(InterfaceId, Ipv4Addr), ArpEntry>,
    /// Bumped by every change to `entries`: a binding remembered with the generation it was
    /// read at (the TCP output cache) is still the table's while the generation is the same.
    pub(crate) generation: u64,
}

impl ArpCache {
    /// A usable binding and when it expires.
    pub(crate) fn lookup_until(
        &self,
        now: Instant,
        iface: InterfaceId,
        ip: Ipv4Addr,
    ) -> Option<(MacAddr, Instant)> {
        match self.entries.get(&(iface, ip)) {
            Some(ArpEntry::Resolved { mac, expires }) if *expires > now => Some((*mac, *expires)),
            _ => None,
        }
    }

    /// A usable binding.
    pub(crate) fn lookup(&self, now: Instant, iface: InterfaceId, ip: Ipv4Addr) -> Option<MacAddr> {
        match self.entries.get(&(iface, ip)) {
            Some(ArpEntry::Resolved { mac, expires }) if *expires > now => Some(*mac),
            _ => None,
        }
    }

    /// Makes room for one more entry: drops expired entries, then the resolved entry closest
    /// to expiry. False if every entry is pending.
    fn make_room(&mut self, now: Instant, config: &ArpConfig) -> bool {
        if self.entries.len() < config.max_entries {
            return true;
        }
        self.generation += 1;
        self.entries
            .retain(|_, e| !matches!(e, ArpEntry::Resolved { expires, .. } if *expires <= now));
        if self.entries.len() < config.max_entries {
            return true;
        }
        let victim = self
            .entries
            .iter()
            .filter_map(|(k, e)| match e {
                ArpEntry::Resolved { expires, .. } => Some((*expires, *k)),
                ArpEntry::Pending { .. } => None,
            })
            .min();
        match victim {
            Some((_, key)) => {
                self.generation += 1;
                self.entries.remove(&key);
                true
            }
            None => false,
        }
    }

    pub(crate) fn check_invariants(&self, config: &ArpConfig) {
        assert!(self.entries.len() <= config.max_entries.max(1));
        for e in self.entries.values() {
            if let ArpEntry::Pending {
                queue,
                requests_sent,
                ..
            } = e
            {
                assert!(queue.len() <= config.max_pending_per_address.max(1));
                assert!(*requests_sent <= config.max_requests.max(1));
            }
        }
    }
}

impl Stack {
    /// The ARP cache, in (interface, address) order.
    pub fn arp_entries(&self) -> Vec<(InterfaceId, Ipv4Addr, ArpEntryState)> {
        self.arp
            .entries
            .iter()
            .map(|(&(iface, ip), e)| {
                let state = match e {
                    ArpEntry::Resolved { mac, expires } => ArpEntryState::Resolved {
                        mac: *mac,
                        expires: *expires,
                    },
                    ArpEntry::Pending {
                        queue,
                        requests_sent,
                        ..
                    } => ArpEntryState::Pending {
                        queued: queue.len(),
                        requests_sent: *requests_sent,
                    },
                };
                (iface, ip, state)
            })
            .collect()
    }

    /// Adds a static binding that expires after the configured lifetime (for tests and
    /// pre-seeded tables).
    pub fn arp_insert(&mut self, now: Instant, iface: InterfaceId, ip: Ipv4Addr, mac: MacAddr) {
        self.arp_learn(now, iface, ip, mac, true);
    }

    /// Receives an ARP packet: the packet-reception algorithm of [RFC 826].
    pub(crate) fn arp_input(&mut self, now: Instant, iface: InterfaceId, payload: &[u8]) {
        self.stats.arp_in += 1;
        let Some(arp) = ArpPacket::parse(payload)
            .ok()
            .and_then(|(p, _)| p.as_ethernet_ipv4())
        else {
            self.stats.arp_dropped += 1;
            return;
        };
        let Some(ifc) = self.interface(iface) else {
            return;
        };
        let our_mac = ifc.mac;
        let our_ip = ifc.addr();
        let sender_ok = arp.sender_mac.is_unicast()
            && !arp.sender_mac.is_zero()
            && !arp.sender_ip.is_unspecified()
            && !arp.sender_ip.is_broadcast()
            && !arp.sender_ip.is_multicast()
            && !ifc.is_broadcast(arp.sender_ip);
        if arp.sender_mac == our_mac {
            self.stats.arp_dropped += 1;
            return;
        }
        if Some(arp.sender_ip) == our_ip {
            self.stats.arp_dropped += 1;
            self.push_event(Event::AddressConflict {
                iface,
                address: arp.sender_ip,
                mac: arp.sender_mac,
            });
            return;
        }
        // "If the pair <protocol type, sender protocol address> is already in my translation
        // table, update the sender hardware address field of the entry with the new
        // information in the packet and set Merge_flag to true."
        let merged = sender_ok && self.arp.entries.contains_key(&(iface, arp.sender_ip));
        if merged {
            self.arp_learn(now, iface, arp.sender_ip, arp.sender_mac, false);
        }
        // "Am I the target protocol address?"
        if our_ip.is_none() || Some(arp.target_ip) != our_ip {
            return;
        }
        if sender_ok && !merged {
            self.arp_learn(now, iface, arp.sender_ip, arp.sender_mac, true);
        }
        if arp.operation == ArpOperation::REQUEST && sender_ok {
            self.arp_send(
                iface,
                ArpOperation::REPLY,
                arp.sender_mac,
                arp.sender_mac,
                arp.sender_ip,
            );
            self.stats.arp_replies_out += 1;
        } else if arp.operation != ArpOperation::REPLY && arp.operation != ArpOperation::REQUEST {
            self.stats.arp_dropped += 1;
        }
    }

    /// Records a binding; if datagrams were waiting for it, sends them in order.
    fn arp_learn(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        ip: Ipv4Addr,
        mac: MacAddr,
        create: bool,
    ) {
        let expires = now + self.config.arp.entry_lifetime;
        let key = (iface, ip);
        if !self.arp.entries.contains_key(&key)
            && (!create || !self.arp.make_room(now, &self.config.arp))
        {
            return;
        }
        self.arp.generation += 1;
        let old = self
            .arp
            .entries
            .insert(key, ArpEntry::Resolved { mac, expires });
        if let Some(ArpEntry::Pending { queue, .. }) = old {
            for p in queue {
                self.send_frame(iface, mac, EtherType::IPV4, &p.datagram);
            }
        }
    }

    /// Sends a datagram to `next_hop` on `iface` once its MAC is known: queues it (dropping
    /// the oldest when full) and sends a request unless one went out within the interval.
    pub(crate) fn arp_resolve_and_send(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        next_hop: Ipv4Addr,
        datagram: Vec<u8>,
        origin: Origin,
    ) {
        if let Some(mac) = self.arp.lookup(now, iface, next_hop) {
            self.send_frame(iface, mac, EtherType::IPV4, &datagram);
            return;
        }
        let key = (iface, next_hop);
        let config = self.config.arp;
        let pending = PendingDatagram { datagram, origin };
        let mut send_request = false;
        let mut dropped = None;
        match self.arp.entries.get_mut(&key) {
            Some(ArpEntry::Pending {
                queue,
                last_request,
                requests_sent,
            }) => {
                if queue.len() >= config.max_pending_per_address.max(1) {
                    dropped = queue.pop_front();
                }
                queue.push_back(pending);
                // A new datagram after a give-up-free pause may trigger a request, but never
                // more than one per interval.
                if now >= *last_request + config.request_interval
                    && *requests_sent < config.max_requests.max(1)
                {
                    *last_request = now;
                    *requests_sent += 1;
                    send_request = true;
                }
            }
            _ => {
                // Absent or expired: start resolving.
                self.arp.generation += 1;
                self.arp.entries.remove(&key);
                if !self.arp.make_room(now, &config) {
                    self.arp_fail(
                        now,
                        iface,
                        next_hop,
                        vec![pending],
                        SendFailure::AddressResolutionFailed,
                    );
                    return;
                }
                let mut queue = VecDeque::new();
                queue.push_back(pending);
                self.arp.entries.insert(
                    key,
                    ArpEntry::Pending {
                        queue,
                        last_request: now,
                        requests_sent: 1,
                    },
                );
                send_request = true;
            }
        }
        if let Some(d) = dropped {
            self.stats.arp_queue_drops += 1;
            if !matches!(d.origin, Origin::Forwarded | Origin::Stack(_)) {
                self.push_event(Event::SendFailed {
                    origin: d.origin,
                    destination: destination_of(&d.datagram),
                    reason: SendFailure::PendingQueueOverflow,
                });
            }
        }
        if send_request {
            self.arp_send(
                iface,
                ArpOperation::REQUEST,
                MacAddr::BROADCAST,
                MacAddr::ZERO,
                next_hop,
            );
            self.stats.arp_requests_out += 1;
        }
    }

    /// Retries requests that are due and gives up on addresses that used all their requests.
    pub(crate) fn arp_timeout(&mut self, now: Instant) {
        let config = self.config.arp;
        let mut retry = Vec::new();
        let mut failed = Vec::new();
        self.arp.generation += 1;
        for (&key, entry) in self.arp.entries.iter_mut() {
            if let ArpEntry::Pending {
                last_request,
                requests_sent,
                ..
            } = entry
            {
                if now < *last_request + config.request_interval {
                    continue;
                }
                if *requests_sent >= config.max_requests.max(1) {
                    failed.push(key);
                } else {
                    *last_request = now;
                    *requests_sent += 1;
                    retry.push(key);
                }
            }
        }
        for (iface, ip) in retry {
            self.arp_send(
                iface,
                ArpOperation::REQUEST,
                MacAddr::BROADCAST,
                MacAddr::ZERO,
                ip,
            );
            self.stats.arp_requests_out += 1;
        }
        for key in failed {
            if let Some(ArpEntry::Pending { queue, .. }) = self.arp.entries.remove(&key) {
                self.arp_fail(
                    now,
                    key.0,
                    key.1,
                    queue.into(),
                    SendFailure::AddressResolutionFailed,
                );
            }
        }
        // Expired bindings go too, so the table does not fill with stale entries.
        self.arp
            .entries
            .retain(|_, e| !matches!(e, ArpEntry::Resolved { expires, .. } if *expires <= now));
    }

    /// Drops datagrams whose next hop could not be resolved and tells their senders.
    fn arp_fail(
        &mut self,
        now: Instant,
        _iface: InterfaceId,
        _next_hop: Ipv4Addr,
        datagrams: Vec<PendingDatagram>,
        reason: SendFailure,
    ) {
        for d in datagrams {
            self.stats.arp_resolution_failures += 1;
            match d.origin {
                Origin::Forwarded => {
                    self.icmp_send_error(
                        now,
                        &d.datagram,
                        false,
                        crate::icmp::ErrorToSend::HostUnreachable,
                    );
                }
                Origin::Stack(_) => {}
                origin => self.push_event(Event::SendFailed {
                    origin,
                    destination: destination_of(&d.datagram),
                    reason,
                }),
            }
        }
    }

    /// The next ARP deadline: the earliest retry or give-up of a pending entry.
    pub(crate) fn arp_next_deadline(&self) -> Option<Instant> {
        let interval = self.config.arp.request_interval;
        self.arp
            .entries
            .values()
            .filter_map(|e| match e {
                ArpEntry::Pending { last_request, .. } => Some(*last_request + interval),
                ArpEntry::Resolved { .. } => None,
            })
            .min()
    }

    /// Announces an interface's address with a gratuitous ARP request (sender and target
    /// address both ours) [RFC 5227 § 3].
    pub(crate) fn arp_announce(&mut self, _now: Instant, iface: InterfaceId) {
        let Some(ip) = self.interface(iface).and_then(|i| i.addr()) else {
            return;
        };
        self.arp_send(
            iface,
            ArpOperation::REQUEST,
            MacAddr::BROADCAST,
            MacAddr::ZERO,
            ip,
        );
        self.stats.arp_requests_out += 1;
    }

    fn arp_send(
        &mut self,
        iface: InterfaceId,
        operation: ArpOperation,
        frame_destination: MacAddr,
        target_mac: MacAddr,
        target_ip: Ipv4Addr,
    ) {
        let Some(ifc) = self.interface(iface) else {
            return;
        };
        let Some(our_ip) = ifc.addr() else {
            return;
        };
        let sha = ifc.mac.octets();
        let spa = our_ip.octets();
        let tha = target_mac.octets();
        let tpa = target_ip.octets();
        let Ok(packet) = ArpPacket::new(
            HardwareType::ETHERNET,
            EtherType::IPV4,
            operation,
            &sha,
            &spa,
            &tha,
            &tpa,
        ) else {
            return;
        };
        let mut buf = [0u8; 28];
        if packet.emit(&mut buf).is_ok() {
            self.send_frame(iface, frame_destination, EtherType::ARP, &buf);
        }
    }
}

/// The destination address of a datagram's bytes (unspecified if too short).
pub(crate) fn destination_of(datagram: &[u8]) -> Ipv4Addr {
    match datagram.get(16..20) {
        Some(&[a, b, c, d]) => Ipv4Addr::new(a, b, c, d),
        _ => Ipv4Addr::UNSPECIFIED,
    }
}

/// The protocol of a datagram's bytes.
#[allow(dead_code)]
pub(crate) fn protocol_of(datagram: &[u8]) -> IpProtocol {
    IpProtocol(datagram.get(9).copied().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use crate::{Config, InterfaceConfig, Ipv4Cidr};
    use core::net::SocketAddrV4;

    const IF0: InterfaceId = InterfaceId(0);
    const OTHER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 3]);
    const OTHER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

    #[test]
    fn gratuitous_arp_when_an_address_is_configured() {
        let mut s = Stack::new(Config::default());
        s.add_interface(
            Instant::ZERO,
            InterfaceConfig::ethernet(HOST_MAC, Ipv4Cidr::new(HOST, 24)),
        )
        .unwrap();
        let Decoded::Arp {
            eth_destination,
            arp,
            ..
        } = &sent(&mut s)[0]
        else {
            panic!()
        };
        assert_eq!(*eth_destination, MacAddr::BROADCAST);
        assert_eq!(arp.operation, ArpOperation::REQUEST);
        assert_eq!((arp.sender_ip, arp.target_ip), (HOST, HOST));
        assert_eq!(arp.sender_mac, HOST_MAC);
    }

    #[test]
    fn replies_to_requests_for_our_address_and_learns_the_requester() {
        let mut s = host(Config::default());
        let t = Instant::from_secs(1);
        let req = arp_frame(
            MacAddr::BROADCAST,
            ArpOperation::REQUEST,
            PEER_MAC,
            PEER,
            MacAddr::ZERO,
            HOST,
        );
        s.handle_frame(t, IF0, &req);
        let out = sent(&mut s);
        assert_eq!(out.len(), 1);
        let Decoded::Arp {
            eth_destination,
            arp,
            ..
        } = &out[0]
        else {
            panic!()
        };
        assert_eq!(*eth_destination, PEER_MAC);
        assert_eq!(arp.operation, ArpOperation::REPLY);
        assert_eq!((arp.sender_mac, arp.sender_ip), (HOST_MAC, HOST));
        assert_eq!((arp.target_mac, arp.target_ip), (PEER_MAC, PEER));
        assert_eq!(s.arp.lookup(t, IF0, PEER), Some(PEER_MAC));
        // A request for someone else teaches nothing new (RFC 826: merge only) …
        let req = arp_frame(
            MacAddr::BROADCAST,
            ArpOperation::REQUEST,
            OTHER_MAC,
            OTHER,
            MacAddr::ZERO,
            PEER,
        );
        s.handle_frame(t, IF0, &req);
        assert!(sent(&mut s).is_empty());
        assert_eq!(s.arp.lookup(t, IF0, OTHER), None);
        // … but updates an entry we have.
        let moved = MacAddr([0x02, 0, 0, 0, 0, 0x22]);
        let req = arp_frame(
            MacAddr::BROADCAST,
            ArpOperation::REQUEST,
            moved,
            PEER,
            MacAddr::ZERO,
            OTHER,
        );
        s.handle_frame(t, IF0, &req);
        assert_eq!(s.arp.lookup(t, IF0, PEER), Some(moved));
    }

    #[test]
    fn entries_expire() {
        let mut config = Config::default();
        config.arp.entry_lifetime = Duration::from_secs(60);
        let mut s = host(config);
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        let h = s.udp_bind(SocketAddrV4::new(HOST, 9)).unwrap();
        s.udp_send_to(Instant::from_secs(59), h, SocketAddrV4::new(PEER, 9), b"a")
            .unwrap();
        assert!(matches!(sent(&mut s)[..], [Decoded::Ipv4 { .. }]));
        s.udp_send_to(Instant::from_secs(60), h, SocketAddrV4::new(PEER, 9), b"b")
            .unwrap();
        let out = sent(&mut s);
        assert!(is_arp_request_for(&out[0], PEER), "{out:?}");
    }

    #[test]
    fn pending_queue_drops_the_oldest() {
        let mut config = Config::default();
        config.arp.max_pending_per_address = 2;
        let mut s = host(config);
        let h = s.udp_bind(SocketAddrV4::new(HOST, 9)).unwrap();
        for i in 0..3u8 {
            s.udp_send_to(Instant::ZERO, h, SocketAddrV4::new(PEER, 9), &[i])
                .unwrap();
        }
        assert_eq!(sent(&mut s).len(), 1, "one request only");
        assert_eq!(
            events(&mut s),
            vec![Event::SendFailed {
                origin: Origin::Udp(h),
                destination: PEER,
                reason: SendFailure::PendingQueueOverflow,
            }]
        );
        let reply = arp_frame(
            HOST_MAC,
            ArpOperation::REPLY,
            PEER_MAC,
            PEER,
            HOST_MAC,
            HOST,
        );
        s.handle_frame(Instant::from_millis(1), IF0, &reply);
        let payloads: Vec<u8> = sent(&mut s)
            .into_iter()
            .filter_map(|d| match d {
                Decoded::Ipv4 { payload, .. } => payload.get(8).copied(),
                _ => None,
            })
            .collect();
        assert_eq!(payloads, vec![1, 2]);
        assert_eq!(s.stats().arp_queue_drops, 1);
    }

    #[test]
    fn requests_are_rate_limited_and_retried() {
        let mut s = host(Config::default());
        let h = s.udp_bind(SocketAddrV4::new(HOST, 9)).unwrap();
        s.udp_send_to(Instant::ZERO, h, SocketAddrV4::new(PEER, 9), b"a")
            .unwrap();
        s.udp_send_to(
            Instant::from_millis(500),
            h,
            SocketAddrV4::new(PEER, 9),
            b"b",
        )
        .unwrap();
        assert_eq!(sent(&mut s).len(), 1);
        assert_eq!(s.poll_timeout(), Some(Instant::from_secs(1)));
        s.handle_timeout(Instant::from_secs(1));
        assert!(is_arp_request_for(&sent(&mut s)[0], PEER));
        s.handle_timeout(Instant::from_secs(2));
        assert_eq!(sent(&mut s).len(), 1);
        s.handle_timeout(Instant::from_secs(3));
        assert!(sent(&mut s).is_empty());
        assert_eq!(events(&mut s).len(), 2, "both datagrams reported");
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn address_conflict_and_bad_senders() {
        let mut s = host(Config::default());
        let t = Instant::ZERO;
        let claim = arp_frame(
            MacAddr::BROADCAST,
            ArpOperation::REQUEST,
            OTHER_MAC,
            HOST,
            MacAddr::ZERO,
            HOST,
        );
        s.handle_frame(t, IF0, &claim);
        assert_eq!(
            events(&mut s),
            vec![Event::AddressConflict {
                iface: IF0,
                address: HOST,
                mac: OTHER_MAC
            }]
        );
        // A broadcast sender address is never learned.
        let bad = arp_frame(
            MacAddr::BROADCAST,
            ArpOperation::REQUEST,
            OTHER_MAC,
            Ipv4Addr::new(10, 0, 0, 255),
            MacAddr::ZERO,
            HOST,
        );
        s.handle_frame(t, IF0, &bad);
        assert!(s.arp_entries().is_empty());
        // Truncated and non-Ethernet ARP is counted and ignored.
        s.handle_frame(
            t,
            IF0,
            &ethernet(MacAddr::BROADCAST, OTHER_MAC, EtherType::ARP, &[0, 1, 8, 0]),
        );
        assert!(s.stats().arp_dropped >= 2);
    }

    #[test]
    fn table_is_bounded() {
        let mut config = Config::default();
        config.arp.max_entries = 4;
        let mut s = host(config);
        for i in 0..20u8 {
            let ip = Ipv4Addr::new(10, 0, 0, 10 + i);
            let req = arp_frame(
                MacAddr::BROADCAST,
                ArpOperation::REQUEST,
                MacAddr([2, 0, 0, 0, 1, i]),
                ip,
                MacAddr::ZERO,
                HOST,
            );
            s.handle_frame(Instant::from_secs(u64::from(i)), IF0, &req);
            s.check_invariants();
        }
        assert_eq!(s.arp_entries().len(), 4);
    }
}
