//! Whole-network scenarios on the internet of RFC 1180's figure 9, in the simulator.

use core::net::{Ipv4Addr, SocketAddrV4};

use wirecheck_codec::arp::ArpOperation;
use wirecheck_codec::ethernet::MacAddr;
use wirecheck_codec::icmp::{IcmpBody, IcmpMessage};
use wirecheck_codec::igmp::{GroupRecordType, IgmpMessage};
use wirecheck_codec::ipv4::IpProtocol;
use wirecheck_codec::time::Duration;

use crate::icmp::EchoRequest;
use crate::iface::InterfaceId;
use crate::sim::*;
use crate::testing::{self, decode, is_arp_request_for, Decoded};
use crate::{Event, NetworkErrorKind, Origin, SendFailure, StackError};

const IF0: InterfaceId = InterfaceId(0);

fn events(net: &mut Network, node: NodeId) -> Vec<Event> {
    std::iter::from_fn(|| net.stack_mut(node).poll_event()).collect()
}

fn decoded_on(net: &Network, seg: SegmentId) -> Vec<Decoded> {
    net.captures_on(seg).map(|c| decode(&c.bytes)).collect()
}

#[test]
fn alpha_pings_epsilon_through_delta() {
    let (mut net, f) = Network::rfc1180_figure9(1);
    let now = net.now();
    net.stack_mut(f.alpha)
        .ping(
            now,
            &EchoRequest::new(RFC1180_EPSILON, 0x1180, 1, b"tutorial"),
        )
        .unwrap();
    net.run_for(Duration::from_secs(1));

    let dev = decoded_on(&net, f.development);
    // Alpha ARPs for the router (devnetrouter, 223.1.2.4), never for epsilon.
    assert!(dev
        .iter()
        .any(|d| is_arp_request_for(d, RFC1180_DELTA_DEVELOPMENT)));
    assert!(!dev.iter().any(|d| is_arp_request_for(d, RFC1180_EPSILON)));
    let alpha_mac = figure9_mac(2, 1);
    let delta_dev_mac = figure9_mac(2, 4);
    let delta_acc_mac = figure9_mac(3, 1);
    let epsilon_mac = figure9_mac(3, 2);
    // Table 6: IP A → E, Ethernet A → D.
    let request_before = dev
        .iter()
        .find(|d| matches!(d, Decoded::Ipv4 { protocol: IpProtocol::ICMP, source, .. } if *source == RFC1180_ALPHA))
        .expect("echo request on development");
    let Decoded::Ipv4 {
        eth_source,
        eth_destination,
        destination,
        ttl,
        ..
    } = request_before
    else {
        unreachable!()
    };
    assert_eq!((*eth_source, *eth_destination), (alpha_mac, delta_dev_mac));
    assert_eq!(*destination, RFC1180_EPSILON);
    assert_eq!(*ttl, 64);
    // Table 7: IP A → E, Ethernet D → E, TTL one less, checksum still right.
    let acc = decoded_on(&net, f.accounting);
    assert!(acc.iter().any(|d| is_arp_request_for(d, RFC1180_EPSILON)));
    let request_after = acc
        .iter()
        .find(|d| matches!(d, Decoded::Ipv4 { source, .. } if *source == RFC1180_ALPHA))
        .expect("echo request on accounting");
    let Decoded::Ipv4 {
        eth_source,
        eth_destination,
        destination,
        ttl,
        checksum_ok,
        ..
    } = request_after
    else {
        unreachable!()
    };
    assert_eq!(
        (*eth_source, *eth_destination),
        (delta_acc_mac, epsilon_mac)
    );
    assert_eq!(*destination, RFC1180_EPSILON);
    assert_eq!(*ttl, 63);
    assert!(checksum_ok);
    // Nothing of it on factory.
    assert!(decoded_on(&net, f.factory)
        .iter()
        .all(|d| !matches!(d, Decoded::Ipv4 { .. })));

    let ev = events(&mut net, f.alpha);
    assert_eq!(
        ev,
        vec![Event::EchoReply {
            source: RFC1180_EPSILON,
            identifier: 0x1180,
            sequence: 1,
            ttl: 63,
            data: b"tutorial".to_vec(),
        }]
    );
    assert_eq!(net.stack(f.delta).stats().ip_forwarded, 2);
}

#[test]
fn big_ping_across_a_576_mtu_link() {
    let (mut net, f) = Network::rfc1180_figure9(2);
    net.stack_mut(f.delta).set_mtu(InterfaceId(1), 576).unwrap();
    net.stack_mut(f.epsilon).set_mtu(IF0, 576).unwrap();
    net.set_impairment(
        f.accounting,
        Impairment {
            mtu: Some(576),
            ..Impairment::PERFECT
        },
    );
    let data: Vec<u8> = (0..4000u32).map(|i| (i * 7) as u8).collect();
    let now = net.now();
    net.stack_mut(f.alpha)
        .ping(now, &EchoRequest::new(RFC1180_EPSILON, 7, 1, &data))
        .unwrap();
    net.run_for(Duration::from_secs(1));

    // 4028 octets of ICMP in 1480-octet pieces on development: three fragments.
    let dev_requests = decoded_on(&net, f.development)
        .into_iter()
        .filter(|d| matches!(d, Decoded::Ipv4 { source, .. } if *source == RFC1180_ALPHA))
        .count();
    assert_eq!(dev_requests, 3);
    let acc = decoded_on(&net, f.accounting);
    let mut offsets = Vec::new();
    for d in &acc {
        if let Decoded::Ipv4 {
            total_length,
            fragment_offset,
            source,
            checksum_ok,
            ..
        } = d
        {
            assert!(*total_length <= 576, "{total_length}");
            assert!(checksum_ok);
            if *source == RFC1180_ALPHA {
                offsets.push(*fragment_offset);
            }
        }
    }
    assert!(offsets.len() >= 8, "re-fragmented for 576: {offsets:?}");
    assert_eq!(net.dropped, 0, "nothing exceeded the link MTU");
    let ev = events(&mut net, f.alpha);
    match ev.as_slice() {
        [Event::EchoReply {
            source,
            data: echoed,
            ..
        }] => {
            assert_eq!(*source, RFC1180_EPSILON);
            assert_eq!(echoed, &data);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(net.stack(f.epsilon).stats().ip_reassembled, 1);
    assert_eq!(net.stack(f.alpha).stats().ip_reassembled, 1);
}

#[test]
fn ttl_expiry_at_the_router() {
    let (mut net, f) = Network::rfc1180_figure9(3);
    let now = net.now();
    let req = EchoRequest {
        ttl: Some(1),
        ..EchoRequest::new(RFC1180_IOTA, 9, 4, b"x")
    };
    net.stack_mut(f.alpha).ping(now, &req).unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(
        events(&mut net, f.alpha),
        vec![Event::EchoError {
            identifier: 9,
            sequence: 4,
            error: crate::NetworkError {
                kind: NetworkErrorKind::TtlExceeded,
                reporter: RFC1180_DELTA_DEVELOPMENT,
                destination: RFC1180_IOTA,
            },
        }]
    );
    assert_eq!(net.stack(f.delta).stats().ip_ttl_expired, 1);
    assert!(decoded_on(&net, f.factory)
        .iter()
        .all(|d| !matches!(d, Decoded::Ipv4 { .. })));
}

#[test]
fn udp_to_a_closed_port_gets_port_unreachable() {
    let (mut net, f) = Network::rfc1180_figure9(4);
    let now = net.now();
    let s = net.stack_mut(f.alpha);
    let h = s
        .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
        .unwrap();
    s.udp_send_to(now, h, SocketAddrV4::new(RFC1180_EPSILON, 9999), b"anyone?")
        .unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(
        events(&mut net, f.alpha),
        vec![Event::UdpError {
            handle: h,
            error: crate::NetworkError {
                kind: NetworkErrorKind::PortUnreachable,
                reporter: RFC1180_EPSILON,
                destination: RFC1180_EPSILON,
            },
            destination_port: 9999,
        }]
    );
    // And an open port delivers, with the source address.
    let server = net
        .stack_mut(f.epsilon)
        .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 9999))
        .unwrap();
    let now = net.now();
    net.stack_mut(f.alpha)
        .udp_send_to(now, h, SocketAddrV4::new(RFC1180_EPSILON, 9999), b"hello")
        .unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(
        events(&mut net, f.epsilon),
        vec![Event::UdpReadable(server)]
    );
    let d = net
        .stack_mut(f.epsilon)
        .udp_recv_from(server)
        .unwrap()
        .unwrap();
    assert_eq!(d.payload, b"hello");
    assert_eq!(*d.source.ip(), RFC1180_ALPHA);
    assert_eq!(
        d.source.port(),
        net.stack(f.alpha).udp_local_addr(h).unwrap().port()
    );
}

#[test]
fn unreachable_networks() {
    let (mut net, f) = Network::rfc1180_figure9(5);
    let now = net.now();
    // Alpha has no route: a local error (RFC 1180 § 5.8 "Network not reachable").
    let s = net.stack_mut(f.alpha);
    let h = s
        .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
        .unwrap();
    assert_eq!(
        s.udp_send_to(
            now,
            h,
            SocketAddrV4::new(Ipv4Addr::new(10, 1, 2, 3), 7),
            b"x"
        ),
        Err(StackError::NoRoute)
    );
    // With a default route through delta, delta answers net unreachable.
    s.add_route(crate::Route::default_via(RFC1180_DELTA_DEVELOPMENT, IF0))
        .unwrap();
    s.udp_send_to(
        now,
        h,
        SocketAddrV4::new(Ipv4Addr::new(10, 1, 2, 3), 7),
        b"x",
    )
    .unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(
        events(&mut net, f.alpha),
        vec![Event::UdpError {
            handle: h,
            error: crate::NetworkError {
                kind: NetworkErrorKind::NetUnreachable,
                reporter: RFC1180_DELTA_DEVELOPMENT,
                destination: Ipv4Addr::new(10, 1, 2, 3),
            },
            destination_port: 7,
        }]
    );
    assert_eq!(net.stack(f.delta).stats().ip_no_route, 1);
}

#[test]
fn arp_queue_delivers_in_order_after_the_reply() {
    let (mut net, f) = Network::rfc1180_figure9(6);
    let server = net
        .stack_mut(f.beta)
        .udp_bind(SocketAddrV4::new(RFC1180_BETA, 7))
        .unwrap();
    let now = net.now();
    let s = net.stack_mut(f.alpha);
    let h = s.udp_bind(SocketAddrV4::new(RFC1180_ALPHA, 1000)).unwrap();
    for i in 0..3u8 {
        s.udp_send_to(now, h, SocketAddrV4::new(RFC1180_BETA, 7), &[i])
            .unwrap();
    }
    // Nothing but one ARP request has left alpha yet.
    net.run_for(Duration::from_micros(1));
    let sent: Vec<Decoded> = decoded_on(&net, f.development);
    assert_eq!(sent.len(), 1);
    assert!(is_arp_request_for(&sent[0], RFC1180_BETA));
    net.run_for(Duration::from_secs(1));
    let dev = decoded_on(&net, f.development);
    let kinds: Vec<&str> = dev
        .iter()
        .map(|d| match d {
            Decoded::Arp { arp, .. } if arp.operation == ArpOperation::REQUEST => "request",
            Decoded::Arp { .. } => "reply",
            Decoded::Ipv4 { .. } => "udp",
            Decoded::Other => "?",
        })
        .collect();
    assert_eq!(kinds, ["request", "reply", "udp", "udp", "udp"]);
    let got: Vec<Vec<u8>> =
        std::iter::from_fn(|| net.stack_mut(f.beta).udp_recv_from(server).unwrap())
            .map(|d| d.payload)
            .collect();
    assert_eq!(got, vec![vec![0], vec![1], vec![2]]);
    // Beta learned alpha from the request (RFC 826: it is the target) and needs no ARP back.
    assert_eq!(
        net.stack(f.beta).stats().arp_requests_out,
        1,
        "only its gratuitous ARP"
    );
}

#[test]
fn arp_failure_reports_local_and_forwarded_senders() {
    let (mut net, f) = Network::rfc1180_figure9(7);
    let now = net.now();
    let s = net.stack_mut(f.alpha);
    let h = s
        .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 5000))
        .unwrap();
    let ghost = Ipv4Addr::new(223, 1, 2, 99);
    s.udp_send_to(now, h, SocketAddrV4::new(ghost, 7), b"x")
        .unwrap();
    s.ping(
        now,
        &EchoRequest::new(Ipv4Addr::new(223, 1, 3, 99), 3, 3, b"y"),
    )
    .unwrap();
    net.run_for(Duration::from_secs(10));
    let requests = decoded_on(&net, f.development)
        .iter()
        .filter(|d| is_arp_request_for(d, ghost))
        .count();
    assert_eq!(
        requests, 3,
        "the configured number of requests, one a second"
    );
    let times: Vec<_> = net
        .captures_on(f.development)
        .filter(|c| is_arp_request_for(&decode(&c.bytes), ghost))
        .map(|c| c.time.as_micros())
        .collect();
    assert!(
        times.windows(2).all(|w| w[1] - w[0] >= 1_000_000),
        "{times:?}"
    );
    let ev = events(&mut net, f.alpha);
    assert!(ev.contains(&Event::SendFailed {
        origin: Origin::Udp(h),
        destination: ghost,
        reason: SendFailure::AddressResolutionFailed,
    }));
    assert!(ev.contains(&Event::EchoError {
        identifier: 3,
        sequence: 3,
        error: crate::NetworkError {
            kind: NetworkErrorKind::HostUnreachable,
            reporter: RFC1180_DELTA_DEVELOPMENT,
            destination: Ipv4Addr::new(223, 1, 3, 99),
        },
    }));
    assert!(net
        .stack(f.alpha)
        .arp_entries()
        .iter()
        .all(|e| e.1 != ghost));
}

#[test]
fn never_forwarded_back_out_of_the_arrival_interface_unless_configured() {
    for rfc1812 in [false, true] {
        let (mut net, f) = Network::rfc1180_figure9(8);
        if rfc1812 {
            let mut c = net.stack(f.delta).config().clone();
            c.ip.forward_same_interface = true;
            // Rebuilding delta is heavy; flip the flag through a fresh figure instead.
            let (n2, f2) = figure9_with_delta_config(c);
            net = n2;
            assert_eq!(f2, f);
        }
        let now = net.now();
        let s = net.stack_mut(f.alpha);
        // A wrong host route: beta through the router.
        s.add_route(crate::Route::via(
            RFC1180_BETA,
            32,
            RFC1180_DELTA_DEVELOPMENT,
            IF0,
        ))
        .unwrap();
        s.ping(now, &EchoRequest::new(RFC1180_BETA, 1, 1, b"z"))
            .unwrap();
        net.run_for(Duration::from_secs(1));
        let ev = events(&mut net, f.alpha);
        if rfc1812 {
            assert!(
                ev.iter().any(|e| matches!(e, Event::EchoReply { .. })),
                "{ev:?}"
            );
            assert_eq!(net.stack(f.delta).stats().ip_forwarded, 1);
            // The redirect taught alpha a host route straight to beta.
            let r = net
                .stack(f.alpha)
                .routes()
                .lookup(RFC1180_BETA)
                .copied()
                .unwrap();
            assert_eq!(r.kind, crate::RouteKind::Redirect);
            assert_eq!(r.gateway, Some(RFC1180_BETA));
        } else {
            assert!(ev.is_empty(), "{ev:?}");
            assert_eq!(net.stack(f.delta).stats().ip_same_interface, 1);
        }
    }
}

/// Figure 9 with another configuration for delta.
fn figure9_with_delta_config(config: crate::Config) -> (Network, Figure9) {
    let (net, f) = Network::rfc1180_figure9(8);
    let mut d = crate::Stack::new(config);
    let t = net.now();
    for (i, (addr, mac)) in [
        (RFC1180_DELTA_DEVELOPMENT, figure9_mac(2, 4)),
        (RFC1180_DELTA_ACCOUNTING, figure9_mac(3, 1)),
        (RFC1180_DELTA_FACTORY, figure9_mac(4, 1)),
    ]
    .into_iter()
    .enumerate()
    {
        let id = d
            .add_interface(
                t,
                crate::InterfaceConfig::ethernet(mac, crate::Ipv4Cidr::new(addr, 24)),
            )
            .unwrap();
        assert_eq!(id, InterfaceId(i));
    }
    let mut net = net;
    *net.stack_mut(f.delta) = d;
    (net, f)
}

#[test]
fn igmp_join_and_query_response() {
    let (mut net, f) = Network::rfc1180_figure9(9);
    let group = Ipv4Addr::new(239, 1, 2, 3);
    let now = net.now();
    net.stack_mut(f.iota).igmp_join(now, IF0, group).unwrap();
    net.run_for(Duration::from_secs(5));
    // Two unsolicited v3 state-change reports (robustness 2) to 224.0.0.22, TTL 1, Router
    // Alert, to the mapped MAC.
    let reports: Vec<Decoded> = decoded_on(&net, f.factory)
        .into_iter()
        .filter(|d| {
            matches!(
                d,
                Decoded::Ipv4 {
                    protocol: IpProtocol::IGMP,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(reports.len(), 2);
    for r in &reports {
        let Decoded::Ipv4 {
            eth_destination,
            destination,
            ttl,
            options,
            payload,
            ..
        } = r
        else {
            unreachable!()
        };
        assert_eq!(*destination, Ipv4Addr::new(224, 0, 0, 22));
        assert_eq!(*eth_destination, MacAddr([0x01, 0x00, 0x5e, 0, 0, 0x16]));
        assert_eq!(*ttl, 1);
        assert_eq!(options, &[0x94, 0x04, 0, 0]);
        let IgmpMessage::V3Report(v3) = IgmpMessage::parse(payload).unwrap() else {
            panic!()
        };
        let rec: Vec<_> = v3.records.iter().collect();
        assert_eq!(rec.len(), 1);
        assert_eq!(rec[0].record_type, GroupRecordType::CHANGE_TO_EXCLUDE);
        assert_eq!(rec[0].multicast_address, group);
    }
    // A v3 general query (max resp 1 s): one current-state report within the second.
    net.clear_captures();
    let querier_mac = MacAddr([0x02, 9, 9, 9, 9, 9]);
    let query = testing::igmp_query_v3(10, Ipv4Addr::UNSPECIFIED, &[]);
    let frame = testing::ipv4_frame(
        MacAddr::from_ipv4_multicast(Ipv4Addr::new(224, 0, 0, 1)),
        querier_mac,
        Ipv4Addr::new(223, 1, 4, 254),
        Ipv4Addr::new(224, 0, 0, 1),
        IpProtocol::IGMP,
        1,
        &[0x94, 4, 0, 0],
        &query,
    );
    net.inject(f.factory, frame);
    net.run_for(Duration::from_millis(1100));
    let answers: Vec<_> = net
        .captures_on(f.factory)
        .filter(|c| c.from == f.iota)
        .map(|c| decode(&c.bytes))
        .collect();
    assert_eq!(answers.len(), 1, "{answers:?}");
    let Decoded::Ipv4 { payload, .. } = &answers[0] else {
        panic!()
    };
    let IgmpMessage::V3Report(v3) = IgmpMessage::parse(payload).unwrap() else {
        panic!()
    };
    assert_eq!(
        v3.records
            .iter()
            .map(|r| (r.record_type, r.multicast_address))
            .collect::<Vec<_>>(),
        vec![(GroupRecordType::MODE_IS_EXCLUDE, group)]
    );
    // Multicast to the group reaches iota's socket; a group it left does not.
    let sock = net
        .stack_mut(f.iota)
        .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 5353))
        .unwrap();
    let data = testing::udp(Ipv4Addr::new(223, 1, 4, 254), group, 1, 5353, b"m");
    let frame = testing::ipv4_frame(
        MacAddr::from_ipv4_multicast(group),
        querier_mac,
        Ipv4Addr::new(223, 1, 4, 254),
        group,
        IpProtocol::UDP,
        1,
        &[],
        &data,
    );
    net.inject(f.factory, frame.clone());
    net.run_for(Duration::from_millis(10));
    assert_eq!(
        net.stack_mut(f.iota)
            .udp_recv_from(sock)
            .unwrap()
            .unwrap()
            .payload,
        b"m"
    );
    let now = net.now();
    net.stack_mut(f.iota).igmp_leave(now, IF0, group).unwrap();
    net.inject(f.factory, frame);
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.stack_mut(f.iota).udp_recv_from(sock).unwrap(), None);
}

#[test]
fn igmp_v2_querier_report_suppression_and_leave() {
    let (mut net, f) = Network::rfc1180_figure9(10);
    let group = Ipv4Addr::new(239, 9, 9, 9);
    let querier_mac = MacAddr([0x02, 9, 9, 9, 9, 9]);
    let inject_query = |net: &mut Network, query: Vec<u8>, dst: Ipv4Addr| {
        let frame = testing::ipv4_frame(
            MacAddr::from_ipv4_multicast(dst),
            querier_mac,
            Ipv4Addr::new(223, 1, 2, 254),
            dst,
            IpProtocol::IGMP,
            1,
            &[0x94, 4, 0, 0],
            &query,
        );
        net.inject(f.development, frame);
    };
    // A v2 querier is heard first: both hosts drop to v2 mode.
    inject_query(
        &mut net,
        testing::igmp_query_v1v2(100, Ipv4Addr::UNSPECIFIED),
        Ipv4Addr::new(224, 0, 0, 1),
    );
    net.run_for(Duration::from_millis(10));
    let now = net.now();
    assert_eq!(
        net.stack(f.alpha).igmp_mode(now, IF0),
        Some(crate::igmp::IgmpVersion::V2)
    );
    net.stack_mut(f.alpha).igmp_join(now, IF0, group).unwrap();
    net.stack_mut(f.beta).igmp_join(now, IF0, group).unwrap();
    net.run_for(Duration::from_secs(30));
    net.clear_captures();
    // A group-specific query with 2 s: exactly one report goes out (the other is suppressed).
    inject_query(&mut net, testing::igmp_query_v1v2(20, group), group);
    net.run_for(Duration::from_secs(3));
    let reports: Vec<_> = net
        .captures_on(f.development)
        .filter(|c| c.from == f.alpha || c.from == f.beta)
        .map(|c| (c.from, decode(&c.bytes)))
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let (
        reporter,
        Decoded::Ipv4 {
            payload,
            destination,
            ..
        },
    ) = &reports[0]
    else {
        panic!()
    };
    assert_eq!(*destination, group);
    assert!(
        matches!(IgmpMessage::parse(payload).unwrap(), IgmpMessage::V2Report(m) if m.group == group)
    );
    let silent = if *reporter == f.alpha {
        f.beta
    } else {
        f.alpha
    };
    // The silent one was not the last reporter: it leaves without a Leave message.
    net.clear_captures();
    let now = net.now();
    net.stack_mut(silent).igmp_leave(now, IF0, group).unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(net.captures_on(f.development).count(), 0);
    // The last reporter sends a Leave to all-routers.
    let now = net.now();
    net.stack_mut(*reporter)
        .igmp_leave(now, IF0, group)
        .unwrap();
    net.run_for(Duration::from_millis(10));
    let leaves: Vec<_> = net
        .captures_on(f.development)
        .map(|c| decode(&c.bytes))
        .collect();
    assert_eq!(leaves.len(), 1);
    let Decoded::Ipv4 {
        destination,
        payload,
        ..
    } = &leaves[0]
    else {
        panic!()
    };
    assert_eq!(*destination, Ipv4Addr::new(224, 0, 0, 2));
    assert!(
        matches!(IgmpMessage::parse(payload).unwrap(), IgmpMessage::V2Leave(m) if m.group == group)
    );
    // After the Older Version Querier Present Timeout (2 × 125 + 10 s) v3 is back.
    let later = net.now() + Duration::from_secs(261);
    assert_eq!(
        net.stack(f.alpha).igmp_mode(later, IF0),
        Some(crate::igmp::IgmpVersion::V3)
    );
}

#[test]
fn fragmented_ping_reassembly_timeout() {
    // Only the first fragment of a request reaches epsilon: 30 s later it says time exceeded
    // (reassembly) to alpha, quoting that fragment.
    let (mut net, f) = Network::rfc1180_figure9(11);
    let echo = testing::icmp_echo_request(5, 6, &[0xab; 3000]);
    let mut h = testing::ipv4_header(RFC1180_ALPHA, RFC1180_EPSILON, IpProtocol::ICMP, 63);
    h.identification = 77;
    let whole = testing::ipv4_datagram(&h, &echo);
    let pieces = crate::ip::fragment_glue::fragment(&whole, 1500).unwrap();
    assert_eq!(pieces.len(), 3);
    let frame = testing::ethernet(
        figure9_mac(3, 2),
        figure9_mac(3, 1),
        wirecheck_codec::ethernet::EtherType::IPV4,
        &pieces[0],
    );
    net.inject(f.accounting, frame);
    net.run_for(Duration::from_secs(29));
    assert!(events(&mut net, f.alpha).is_empty());
    net.run_for(Duration::from_secs(2));
    let ev = events(&mut net, f.alpha);
    assert_eq!(
        ev,
        vec![Event::EchoError {
            identifier: 5,
            sequence: 6,
            error: crate::NetworkError {
                kind: NetworkErrorKind::ReassemblyTimeExceeded,
                reporter: RFC1180_EPSILON,
                destination: RFC1180_EPSILON,
            },
        }]
    );
    // A lone later fragment times out silently.
    let frame = testing::ethernet(
        figure9_mac(3, 2),
        figure9_mac(3, 1),
        wirecheck_codec::ethernet::EtherType::IPV4,
        &pieces[1],
    );
    net.inject(f.accounting, frame);
    net.run_for(Duration::from_secs(40));
    assert!(events(&mut net, f.alpha).is_empty());
    assert_eq!(net.stack(f.epsilon).stats().ip_reassembly_failures, 2);
}

#[test]
fn echo_reply_is_fragmented_for_a_fragmented_request() {
    let (mut net, f) = Network::rfc1180_figure9(12);
    let data = vec![0x5a; 2500];
    let now = net.now();
    net.stack_mut(f.alpha)
        .ping(now, &EchoRequest::new(RFC1180_BETA, 1, 2, &data))
        .unwrap();
    net.run_for(Duration::from_secs(1));
    let from_beta = net
        .captures_on(f.development)
        .filter(|c| c.from == f.beta && matches!(decode(&c.bytes), Decoded::Ipv4 { .. }))
        .count();
    assert_eq!(from_beta, 2);
    let ev = events(&mut net, f.alpha);
    assert!(matches!(ev.as_slice(), [Event::EchoReply { data: d, .. }] if d == &data));
}

#[test]
fn record_route_is_stamped_by_the_router() {
    let (mut net, f) = Network::rfc1180_figure9(13);
    let rr = [7u8, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let now = net.now();
    let req = EchoRequest {
        ip_options: &rr[..11],
        ..EchoRequest::new(RFC1180_EPSILON, 1, 1, b"rr")
    };
    net.stack_mut(f.alpha).ping(now, &req).unwrap();
    net.run_for(Duration::from_secs(1));
    let acc = decoded_on(&net, f.accounting);
    let Some(Decoded::Ipv4 {
        options,
        checksum_ok,
        ..
    }) = acc
        .iter()
        .find(|d| matches!(d, Decoded::Ipv4 { source, .. } if *source == RFC1180_ALPHA))
    else {
        panic!()
    };
    assert!(checksum_ok);
    assert_eq!(&options[..11], &[7, 11, 8, 223, 1, 3, 1, 0, 0, 0, 0]);
    assert!(events(&mut net, f.alpha)
        .iter()
        .any(|e| matches!(e, Event::EchoReply { .. })));
}

#[test]
fn lossy_reordering_links_still_deliver_pings_eventually() {
    let (mut net, f) = Network::rfc1180_figure9(14);
    let lossy = Impairment {
        loss: 0.2,
        duplicate: 0.1,
        reorder: 0.2,
        jitter: Duration::from_millis(2),
        ..Impairment::PERFECT
    };
    for seg in [f.development, f.accounting] {
        net.set_impairment(seg, lossy);
    }
    let mut replies = 0;
    for seq in 0..40u16 {
        let now = net.now();
        let _ = net.stack_mut(f.alpha).ping(
            now,
            &EchoRequest::new(RFC1180_EPSILON, 2, seq, &[seq as u8; 100]),
        );
        net.run_for(Duration::from_millis(500));
        replies += events(&mut net, f.alpha)
            .iter()
            .filter(|e| matches!(e, Event::EchoReply { .. }))
            .count();
        for n in [f.alpha, f.beta, f.delta, f.epsilon, f.iota] {
            net.stack(n).check_invariants();
        }
    }
    assert!((10..=48).contains(&replies), "{replies}");
}

#[test]
fn simulation_is_deterministic() {
    let run = |seed| {
        let (mut net, f) = Network::rfc1180_figure9(seed);
        net.set_impairment(
            f.development,
            Impairment {
                loss: 0.3,
                jitter: Duration::from_millis(1),
                ..Impairment::PERFECT
            },
        );
        for i in 0..10u16 {
            let now = net.now();
            let _ = net
                .stack_mut(f.alpha)
                .ping(now, &EchoRequest::new(RFC1180_IOTA, 1, i, b"d"));
            net.stack_mut(f.iota)
                .igmp_join(now, IF0, Ipv4Addr::new(239, 0, 0, i as u8 + 1))
                .unwrap();
            net.run_for(Duration::from_millis(300));
        }
        net.captures().to_vec()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn icmp_errors_are_never_sent_about_icmp_errors() {
    // Delta gets a time-exceeded message with TTL 1 to forward: no error about it.
    let (mut net, f) = Network::rfc1180_figure9(15);
    let quoted = testing::ipv4_datagram(
        &testing::ipv4_header(
            RFC1180_IOTA,
            Ipv4Addr::new(223, 1, 2, 77),
            IpProtocol::UDP,
            5,
        ),
        &[0; 8],
    );
    let err = testing::icmp(IcmpBody::TimeExceeded(
        wirecheck_codec::icmp::TimeExceeded {
            code: wirecheck_codec::icmp::TimeExceededCode::TTL_EXCEEDED,
            unused: 0,
            length: 0,
            unused_tail: 0,
            quoted: &quoted,
            extensions: None,
        },
    ));
    assert!(IcmpMessage::parse(&err).is_ok());
    let frame = testing::ipv4_frame(
        figure9_mac(2, 4),
        figure9_mac(2, 1),
        RFC1180_ALPHA,
        RFC1180_IOTA,
        IpProtocol::ICMP,
        1,
        &[],
        &err,
    );
    net.inject(f.development, frame);
    net.run_for(Duration::from_secs(1));
    let delta = net.stack(f.delta).stats();
    assert_eq!(delta.ip_ttl_expired, 1);
    assert_eq!(delta.icmp_errors_suppressed, 1);
    assert_eq!(delta.icmp_out, 0);
}

#[test]
fn loose_source_route_is_followed_only_when_configured() {
    for accept in [false, true] {
        let mut net = Network::new(16);
        let t = net.now();
        let a_net = net.add_segment("a", Impairment::PERFECT);
        let b_net = net.add_segment("b", Impairment::PERFECT);
        let mut config = crate::Config::default();
        config.ip.accept_source_route = accept;
        let mut router_config = crate::Config::router();
        router_config.ip.accept_source_route = accept;
        let cidr = |a, b, c, d| crate::Ipv4Cidr::new(Ipv4Addr::new(a, b, c, d), 24);
        let mut a = crate::Stack::new(config.clone());
        a.add_interface(
            t,
            crate::InterfaceConfig::ethernet(figure9_mac(0, 1), cidr(10, 0, 0, 1)),
        )
        .unwrap();
        let mut b = crate::Stack::new(config);
        b.add_interface(
            t,
            crate::InterfaceConfig::ethernet(figure9_mac(1, 1), cidr(10, 0, 1, 1)),
        )
        .unwrap();
        b.add_route(crate::Route::default_via(Ipv4Addr::new(10, 0, 1, 254), IF0))
            .unwrap();
        let mut r = crate::Stack::new(router_config);
        let r0 = r
            .add_interface(
                t,
                crate::InterfaceConfig::ethernet(figure9_mac(0, 254), cidr(10, 0, 0, 254)),
            )
            .unwrap();
        let r1 = r
            .add_interface(
                t,
                crate::InterfaceConfig::ethernet(figure9_mac(1, 254), cidr(10, 0, 1, 254)),
            )
            .unwrap();
        let (a, b, r) = (
            net.add_node("a", a),
            net.add_node("b", b),
            net.add_node("r", r),
        );
        net.attach(a, IF0, a_net);
        net.attach(b, IF0, b_net);
        net.attach(r, r0, a_net);
        net.attach(r, r1, b_net);
        // A has no route to 10.0.1/24: only the source route through the router gets there.
        let lsrr = [131u8, 7, 4, 10, 0, 1, 1, 0];
        let now = net.now();
        let req = EchoRequest {
            ip_options: &lsrr,
            ..EchoRequest::new(Ipv4Addr::new(10, 0, 0, 254), 1, 1, b"sr")
        };
        net.stack_mut(a).ping(now, &req).unwrap();
        net.run_for(Duration::from_secs(1));
        let on_b: Vec<Decoded> = decoded_on(&net, b_net)
            .into_iter()
            .filter(|d| matches!(d, Decoded::Ipv4 { source, .. } if *source == Ipv4Addr::new(10, 0, 0, 1)))
            .collect();
        if accept {
            let [Decoded::Ipv4 {
                destination,
                options,
                ttl,
                checksum_ok,
                ..
            }] = &on_b[..]
            else {
                panic!("{on_b:?}")
            };
            assert_eq!(*destination, Ipv4Addr::new(10, 0, 1, 1));
            // The router recorded its outgoing address and advanced the pointer.
            assert_eq!(&options[..7], &[131, 7, 8, 10, 0, 1, 254]);
            assert_eq!(*ttl, 63);
            assert!(checksum_ok);
            assert_eq!(net.stack(b).stats().icmp_in, 1);
            // B, the final destination, answers along the reversed route: to the router,
            // with {>>10.0.0.1}; the router follows it and A, in turn the final destination,
            // gets the reply [RFC 1122 § 3.2.1.8 (c), § 3.2.2.6].
            let replies: Vec<Decoded> = decoded_on(&net, b_net)
                .into_iter()
                .filter(|d| matches!(d, Decoded::Ipv4 { source, .. } if *source == Ipv4Addr::new(10, 0, 1, 1)))
                .collect();
            let [Decoded::Ipv4 {
                destination,
                options,
                ..
            }] = &replies[..]
            else {
                panic!("{replies:?}")
            };
            assert_eq!(*destination, Ipv4Addr::new(10, 0, 1, 254));
            assert_eq!(&options[..], &[131, 7, 4, 10, 0, 0, 1, 0]);
            let echo_replies = events(&mut net, a)
                .into_iter()
                .filter(|e| matches!(e, Event::EchoReply { source, .. } if *source == Ipv4Addr::new(10, 0, 1, 1)))
                .count();
            assert_eq!(echo_replies, 1);
        } else {
            assert!(on_b.is_empty());
            assert_eq!(net.stack(r).stats().ip_source_routed, 1);
        }
    }
}
