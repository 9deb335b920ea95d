//! The lax whole-frame decoder on arbitrary bytes, and the `wirecheck decode`/`verify` paths on
//! the result.
//!
//! `Packet::parse` must never panic, and what it returns must be consistent with the frame:
//! every layer it decoded re-emits (`emit_exact`) the very bytes at its offset, and the number
//! of findings is bounded by the frame's size. The same bytes are also decoded as a raw IPv4
//! datagram and as a capture record of every link type the CLI knows, through the summary, JSON
//! and verify renderings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirecheck_codec::ipv4;
use wirecheck_codec::packet::{Datagram, Packet, Transport};
use wirecheck_conformance::capture::{LinkType, Record, Timestamp};
use wirecheck_conformance::decode::{
    decode_record, fields, json_lines, summary_lines, verify_batch,
};
use wirecheck_fuzz::{assert_same_bytes, emit_checked};

/// Link types `decode_record` handles (and one it does not).
const LINK_TYPES: [LinkType; 9] = [
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::RAW_LEGACY_12,
    LinkType::IPV4,
    LinkType::NULL,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType(147),
];

fuzz_target!(|data: &[u8]| {
    let packet = Packet::parse(data);
    check_packet(&packet, data);
    let raw = Packet::parse_ipv4(data);
    check_packet(&raw, data);

    let batch: Vec<Record> = LINK_TYPES
        .iter()
        .enumerate()
        .map(|(i, &link_type)| Record {
            number: i as u64 + 1,
            file_offset: 24,
            timestamp: Timestamp {
                seconds: 1_700_000_000 + i as i64,
                nanoseconds: 999_999_999,
            },
            link_type,
            original_length: data.len() as u32,
            interface: 0,
            data: data.to_vec(),
        })
        .collect();
    for record in &batch {
        let (packet, _note) = decode_record(record);
        check_packet(&packet, &record.data);
        let f = fields(record, &packet);
        let _ = f.to_json().to_string();
    }
    let _ = summary_lines(&batch, batch[0].timestamp);
    let _ = json_lines(&batch);
    let _ = verify_batch(&batch);
});

/// Every decoded layer must be the bytes of the frame at its offset.
fn check_packet(packet: &Packet<'_>, frame: &[u8]) {
    // Findings are bounded: at most a handful per layer, never one per byte or more.
    assert!(
        packet.findings.len() <= 64,
        "{} findings for a {}-byte frame: {:?}",
        packet.findings.len(),
        frame.len(),
        packet.findings
    );
    for finding in &packet.findings {
        let _ = finding.to_string();
        let _ = (finding.severity(), finding.category());
    }
    let _ = (packet.protocol_name(), packet.worst());

    if let Some(eth) = &packet.ethernet {
        let bytes = emit_checked("ethernet", eth.len(), |out| eth.emit_exact(out))
            .expect("a parsed Ethernet header re-emits");
        assert_same_bytes(
            "ethernet",
            &bytes,
            frame.get(..eth.len()).expect("inside frame"),
        );
        let _ = eth.to_string();
    }
    if let Some(arp) = &packet.arp {
        let _ = arp.to_string();
        let len = arp.len();
        let bytes = emit_checked("arp", len, |out| arp.emit_exact(out)).expect("re-emits");
        // The ARP layer carries no offset: its address slices borrow from the frame, 8 bytes
        // after its start.
        let at = (arp.sender_hardware_addr.as_ptr() as usize)
            .checked_sub(frame.as_ptr() as usize + 8)
            .expect("ARP addresses borrow from the frame");
        let on_wire = frame
            .get(at..at + len)
            .expect("ARP packet inside the frame");
        assert_same_bytes("arp", &bytes, on_wire);
    }
    if let Some(ip) = &packet.ipv4 {
        check_datagram(
            &Datagram {
                ipv4: *ip,
                transport: packet.transport.clone(),
            },
            frame,
        );
    }
}

fn check_datagram(d: &Datagram<'_>, frame: &[u8]) {
    let ip = &d.ipv4;
    let h = &ip.header;
    let _ = h.to_string();
    let header_len = 20 + h.options.len();
    let at = ip.offset;
    let on_wire = frame
        .get(at..at + header_len)
        .unwrap_or_else(|| panic!("IPv4 header at {at}+{header_len} outside the frame"));
    let bytes = emit_checked("ipv4", header_len, |out| h.emit_exact(out)).expect("re-emits");
    assert_same_bytes("ipv4 header", &bytes, on_wire);
    // A header cut short (options past the end of the bytes) has no checksum status.
    let whole_header = h.header_len() == header_len;
    assert_eq!(
        ip.checksum,
        whole_header.then(|| ipv4::verify_checksum(on_wire)),
        "IPv4 checksum status"
    );
    for option in h.options.iter() {
        let _ = option.len();
    }
    match &d.transport {
        None => {}
        Some(Transport::Udp(u)) => {
            let bytes = emit_checked("udp", 8, |out| u.header.emit_exact(out)).expect("re-emits");
            assert_same_bytes("udp", &bytes, &frame[u.offset..u.offset + 8]);
        }
        Some(Transport::Tcp(t)) => {
            let len = t.header.len();
            let bytes = emit_checked("tcp", len, |out| t.header.emit_exact(out)).expect("re-emits");
            assert_same_bytes("tcp", &bytes, &frame[t.offset..t.offset + len]);
            let _ = t.header.to_string();
        }
        Some(Transport::Prefix(p)) => {
            assert!(p.offset + 4 <= frame.len());
        }
        Some(Transport::Icmp(i)) => {
            let len = i.message.exact_len();
            let bytes =
                emit_checked("icmp", len, |out| i.message.emit_exact(out)).expect("re-emits");
            assert_same_bytes("icmp", &bytes, &frame[i.offset..i.offset + len]);
            let _ = i.message.to_string();
            if let Some(quoted) = &i.quoted {
                check_datagram(quoted, frame);
            }
        }
        Some(Transport::Igmp(g)) => {
            let len = g.message.len();
            let bytes =
                emit_checked("igmp", len, |out| g.message.emit_exact(out)).expect("re-emits");
            assert_same_bytes("igmp", &bytes, &frame[g.offset..g.offset + len]);
            let _ = g.message.to_string();
        }
    }
}
